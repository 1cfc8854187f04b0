// Exec round-trip benchmark: how long `volt-run exec NAME -- CMD` takes from spawn to reaped
// exit, against volt-bare-exec doing the minimum (pidfd_open + setns + fork + exec) on the same
// container. The two alternate, run by run, so that drift in the machine hits both alike.
//
// Usage: volt-exec-bench [--iterations N] [--warmup N] VOLT_RUN BARE_EXEC NAME LEADER_PID
//                        [--userns] -- /ABSOLUTE/CMD [ARGS...]
// VOLT_ROOT and friends are passed through to volt-run from the environment.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

double now_us() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Runs argv with stdout on /dev/null; returns the elapsed microseconds, or -1 on a non-zero exit.
double timed_run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    double start = now_us();
    pid_t pid;
    if (::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0)
        return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    double elapsed = now_us() - start;
    ::posix_spawn_file_actions_destroy(&actions);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? elapsed : -1;
}

struct Summary {
    double median, p90, mean, min;
};

Summary summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v)
        sum += x;
    return {v[v.size() / 2], v[v.size() * 9 / 10], sum / static_cast<double>(v.size()), v.front()};
}

int usage() {
    std::fprintf(stderr,
                 "usage: volt-exec-bench [--iterations N] [--warmup N] VOLT_RUN BARE_EXEC NAME "
                 "LEADER_PID [--userns] -- /ABSOLUTE/CMD [ARGS...]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int iterations = 200, warmup = 20, i = 1;
    for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2]; i += 2) {
        if (std::strcmp(argv[i], "--iterations") == 0)
            iterations = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--warmup") == 0)
            warmup = std::atoi(argv[i + 1]);
        else
            return usage();
    }
    if (argc - i < 6 || iterations < 1)
        return usage();
    std::string volt = argv[i], bare = argv[i + 1], name = argv[i + 2], leader = argv[i + 3];
    i += 4;
    bool userns = std::strcmp(argv[i], "--userns") == 0;
    if (userns)
        ++i;
    if (std::strcmp(argv[i], "--") != 0 || i + 1 >= argc)
        return usage();
    std::vector<std::string> cmd(argv + i + 1, argv + argc);

    std::vector<std::string> volt_args = {volt, "exec", name, "--"};
    volt_args.insert(volt_args.end(), cmd.begin(), cmd.end());
    std::vector<std::string> bare_args = {bare};
    if (userns)
        bare_args.push_back("--userns");
    bare_args.push_back(leader);
    bare_args.insert(bare_args.end(), cmd.begin(), cmd.end());

    std::vector<double> volt_us, bare_us;
    for (int n = 0; n < warmup + iterations; ++n) {
        double v = timed_run(volt_args), b = timed_run(bare_args);
        if (v < 0 || b < 0) {
            std::fprintf(stderr, "volt-exec-bench: run %d failed (%s)\n", n,
                         v < 0 ? "volt-run exec" : "bare exec");
            return 1;
        }
        if (n >= warmup) {
            volt_us.push_back(v);
            bare_us.push_back(b);
        }
    }
    Summary sv = summarize(volt_us), sb = summarize(bare_us);
    std::printf("%-16s %10s %10s %10s %10s   (microseconds, %d runs each, interleaved)\n", "",
                "median", "p90", "mean", "min", iterations);
    std::printf("%-16s %10.0f %10.0f %10.0f %10.0f\n", "volt-run exec", sv.median, sv.p90, sv.mean,
                sv.min);
    std::printf("%-16s %10.0f %10.0f %10.0f %10.0f\n", "bare setns+exec", sb.median, sb.p90,
                sb.mean, sb.min);
    std::printf("overhead of volt-run exec over the bare program: median %+.1f %%, mean %+.1f %%\n",
                (sv.median / sb.median - 1) * 100, (sv.mean / sb.mean - 1) * 100);
    return 0;
}
