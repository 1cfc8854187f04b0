#include "support.hpp"

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "netlink/nft.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace volt::test {
namespace {

std::string tmp_base() {
    const char* t = std::getenv("TMPDIR");
    return t && *t ? t : "/var/tmp";
}

// Test names the README lists under "unavailable on our CI machines".
bool listed_unavailable(const std::string& test_name) {
    std::ifstream readme(std::string(VOLT_SOURCE_DIR) + "/README.md");
    std::string line;
    bool in_section = false;
    while (std::getline(readme, line)) {
        if (line.rfind("#", 0) == 0) {
            in_section = line.find("unavailable on our CI machines") != std::string::npos;
            continue;
        }
        if (in_section && line.find("`" + test_name + "`") != std::string::npos)
            return true;
    }
    return false;
}

// Children of ours that a Background waits for itself: reap_orphans leaves them.
std::set<pid_t>& waited_by_owner() {
    static std::set<pid_t> pids;
    return pids;
}

}  // namespace

std::vector<std::string> environment_with(const std::vector<std::string>& env) {
    auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& given) {
            return name_of(given) == name_of(entry);
        });
        if (!replaced)
            envs.push_back(std::move(entry));
    }
    envs.insert(envs.end(), env.begin(), env.end());
    return envs;
}

TempDir::TempDir(const std::string& prefix) {
    std::string templ = tmp_base() + "/" + prefix + ".XXXXXX";
    if (!::mkdtemp(templ.data()))
        throw std::runtime_error("mkdtemp: " + std::string(strerror(errno)));
    path_ = templ;
}

TempDir::~TempDir() {
    ::nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, FTW*) { return ::remove(p) < 0 ? 0 : 0; }, 64,
        FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const std::string& stdin_text, const std::vector<std::string>& cgroups,
              const std::vector<int>& ignored) {
    std::vector<std::string> procs;
    for (const auto& c : cgroups)
        procs.push_back(c + "/cgroup.procs");
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) < 0 || ::pipe2(err_pipe, O_CLOEXEC) < 0 ||
        ::pipe2(in_pipe, O_CLOEXEC) < 0)
        throw std::runtime_error("pipe");
    std::vector<std::string> envs = environment_with(env);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : envs)
        cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        for (const auto& p : procs) {
            int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::write(fd, "0", 1) != 1)
                ::_exit(126);
            ::close(fd);
        }
        for (int sig : ignored)
            ::signal(sig, SIG_IGN);
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (!stdin_text.empty())
        (void)!::write(in_pipe[1], stdin_text.data(), stdin_text.size());
    ::close(in_pipe[1]);
    RunResult r;
    // Drain both pipes together so that neither side blocks on a full pipe.
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        ::poll(fds, 2, -1);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

void skip_unless(bool available, const std::string& facility) {
    if (available)
        return;
    std::string name = Catch::getResultCapture().getCurrentTestName();
    const char* must = std::getenv("VOLT_TESTS_MUST_RUN");
    if (must && std::string(must) == "1" && !listed_unavailable(name))
        FAIL("this machine lacks " << facility << ", and VOLT_TESTS_MUST_RUN=1 forbids skipping '"
                                   << name << "' (README lists no reason)");
    std::cout << "SKIPPED: '" << name << "': this machine lacks " << facility << std::endl;
    std::exit(77);
}

bool is_root() {
    return ::geteuid() == 0;
}

std::string writable_cgroup2() {
    for (const char* p : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs fs;
        if (::statfs(p, &fs) == 0 && fs.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */ &&
            ::access(p, W_OK) == 0)
            return p;
    }
    return {};
}

bool have_program(const std::string& path) {
    return ::access(path.c_str(), X_OK) == 0;
}

void require_container_host() {
    skip_unless(is_root(), "root");
    skip_unless(have_program("/usr/bin/systemd-nspawn"), "systemd-nspawn");
    skip_unless(!writable_cgroup2().empty(), "a writable cgroup2 hierarchy");
}

std::string busybox_rootfs() {
    return std::string(VOLT_TEST_CACHE_DIR) + "/busybox";
}
std::string debian_rootfs() {
    return std::string(VOLT_TEST_CACHE_DIR) + "/bookworm-systemd";
}

void create_and_boot(const Sandbox& sb, const std::string& name, const std::string& image,
                     const std::vector<std::string>& extra) {
    require_container_host();
    REQUIRE(fs::is_directory(image));  // the test roots are built by the rootfs fixtures
    std::vector<std::string> create = {"create", name, "--image", image};
    create.insert(create.end(), extra.begin(), extra.end());
    auto r = sb.volt(create);
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
}

void boot_busybox(const Sandbox& sb, const std::string& name,
                  const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--network", "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    create_and_boot(sb, name, busybox_rootfs(), args);
}

std::string volt_run_binary() {
    return VOLT_RUN_BINARY;
}

std::vector<pid_t> children_of_self() {
    std::vector<pid_t> out;
    // Orphans are adopted by whichever of our threads: each thread's children.
    std::vector<std::string> tasks;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.')
                tasks.emplace_back(e->d_name);
        ::closedir(d);
    }
    for (const auto& task : tasks) {
        auto text = fs::read_file("/proc/self/task/" + task + "/children");
        if (!text)
            continue;
        for (auto word : fs::split(*text, ' '))
            if (!word.empty())
                out.push_back(static_cast<pid_t>(std::stol(std::string(word))));
    }
    return out;
}

std::vector<pid_t> children_named(const std::string& comm) {
    std::vector<pid_t> out;
    for (pid_t child : children_of_self()) {
        auto text = fs::read_file("/proc/" + std::to_string(child) + "/comm");
        if (text && *text == comm + "\n")
            out.push_back(child);
    }
    return out;
}

namespace {

// Orphans reparented to us as subreaper (run() waits for its own children by pid).
void reap_orphans() {
    for (pid_t child : children_of_self())
        if (!waited_by_owner().count(child))
            ::waitpid(child, nullptr, WNOHANG);
}

}  // namespace

bool process_alive(pid_t pid) {
    reap_orphans();
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return false;
    auto close_paren = line.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < line.size() &&
           line[close_paren + 2] != 'Z';
}

pid_t kill_nspawn(const Sandbox& sb, const std::string& name) {
    const pid_t nspawn = sb.inspect(name)["nspawn_pid"].get<pid_t>();
    REQUIRE(nspawn > 0);
    REQUIRE(::kill(nspawn, SIGKILL) == 0);
    for (int i = 0; i < 250 && process_alive(nspawn); ++i)
        ::usleep(20 * 1000);
    REQUIRE_FALSE(process_alive(nspawn));
    return nspawn;
}

Sandbox::Sandbox() : dir_("volt-sandbox") {
    // A container booted with --detach outlives the volt-run that started it; as subreaper the
    // test inherits and reaps it instead of leaving a zombie to the machine's init.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Sandbox::~Sandbox() {
    // Containers a failed test left behind: delete stops them and removes their cgroups.
    std::string config = root() + "/config";
    if (DIR* d = ::opendir(config.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.')
                volt({"delete", "--force", "--time", "0", e->d_name});
        ::closedir(d);
    }
    reap_orphans();
}

std::vector<std::string> Sandbox::env() const {
    // Every variable volt-run reads, so that none leaks in from the shell running the tests
    // (an empty value means the default).
    return {"VOLT_ROOT=" + root(),
            "VOLT_UNIT_DIR=" + unit_dir(),
            "VOLT_NSPAWN_DIR=" + nspawn_dir(),
            "VOLT_RUN_DIR=" + run_dir(),
            "VOLT_CGROUP_ROOT=",
            "VOLT_SUBNET=",
            "VOLT_FAULT=",
            "VOLT_FAULT_TRACE="};
}

RunResult Sandbox::volt(const std::vector<std::string>& args) const {
    return volt(args, {});
}

RunResult Sandbox::volt_ignoring(const std::vector<int>& ignored,
                                 const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {volt_run_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, env(), {}, {}, ignored);
}

RunResult Sandbox::volt(const std::vector<std::string>& args,
                        const std::vector<std::string>& extra_env,
                        const std::vector<std::string>& cgroups) const {
    std::vector<std::string> argv = {volt_run_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> environment = env();
    for (const auto& e : extra_env) {
        // A later entry of the same name replaces the sandbox's.
        const std::string key = e.substr(0, e.find('=') + 1);
        std::erase_if(environment, [&](const std::string& have) { return have.starts_with(key); });
        environment.push_back(e);
    }
    return run(argv, environment, {}, cgroups);
}

nlohmann::json Sandbox::inspect(const std::string& name) const {
    auto r = volt({"inspect", "--json", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

runtime::Paths Sandbox::paths() const {
    runtime::Paths p;
    p.root = root();
    p.unit_dir = unit_dir();
    p.nspawn_dir = nspawn_dir();
    p.run_dir = run_dir();
    return p;
}

std::string tiny_image(const TempDir& dir) {
    std::string img = dir / "image";
    REQUIRE(fs::mkdir_p(img + "/etc"));
    REQUIRE(fs::write_file_atomic(img + "/etc/os-release", "ID=volt-test\n"));
    return img;
}

std::string Sandbox::unique_name(const std::string& base) const {
    return base + "-" + std::to_string(::getpid());
}

std::vector<std::string> tree(const std::string& path) {
    static std::vector<std::string>* out_ptr;
    static size_t prefix;
    std::vector<std::string> out;
    out_ptr = &out;
    prefix = path.size() + 1;
    ::nftw(
        path.c_str(),
        [](const char* p, const struct stat*, int, FTW* ftw) {
            if (ftw->level > 0)
                out_ptr->push_back(std::string(p).substr(prefix));
            return 0;
        },
        64, FTW_PHYS);
    std::sort(out.begin(), out.end());
    return out;
}

Background::Background(const Sandbox& sb, const std::vector<std::string>& args,
                       const std::vector<int>& ignored)
    : output_(sb.dir() / "background.out") {
    std::vector<std::string> argv = {volt_run_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envs = environment_with(sb.env());
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : envs)
        cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    int out = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(out >= 0);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::setpgid(0, 0);
        for (int sig : ignored)
            ::signal(sig, SIG_IGN);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(out);
    REQUIRE(pid_ > 0);
    ::setpgid(pid_, pid_);  // also here: signalled at once, it must already lead its group
    waited_by_owner().insert(pid_);
}

Background::~Background() {
    if (pid_ > 0 && !code_) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    waited_by_owner().erase(pid_);
}

std::optional<int> Background::wait(int timeout_ms) {
    if (code_)
        return code_;
    for (int waited = 0;; waited += 50) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return code_;
        }
        if (r < 0 || waited >= timeout_ms)
            return std::nullopt;
        ::usleep(50 * 1000);
    }
}

std::string Background::output() const {
    return fs::read_file(output_).value_or("");
}

bool cgroups_left(const std::string& name) {
    for (const char* h : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd",
                          "/sys/fs/cgroup/devices"})
        for (const char* slice :
             {"/volt.slice/volt-hybrid-", "/user.slice/volt.slice/volt-hybrid-"})
            if (fs::exists(std::string(h) + slice + name))
                return true;
    // Below wherever the test runs (boot makes volt.slice under its own cgroup).
    auto self = fs::read_file("/proc/self/cgroup");
    const std::string own = self ? *self : std::string();
    for (auto line : fs::split(own, '\n')) {
        auto colon = line.rfind(':');
        if (colon == std::string_view::npos)
            continue;
        std::string path(line.substr(colon + 1));
        for (const char* h : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd",
                              "/sys/fs/cgroup/devices", "/sys/fs/cgroup"})
            if (fs::exists(std::string(h) + path + "/volt.slice/volt-hybrid-" + name))
                return true;
    }
    return false;
}

bool has_nft_rules_of(const std::string& owner) {
    auto nft = netlink::Nftables::open();
    REQUIRE(nft);
    auto rules = nft->rules();
    REQUIRE(rules);
    return std::any_of(rules->begin(), rules->end(),
                       [&](const netlink::NftRule& r) { return r.owner == owner; });
}

namespace {

std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : bytes)
        h = (h ^ c) * 1099511628211ULL;
    return h;
}

// Every entry below dir, one line each: its path, type, mode, owner, and for a file its size and
// a digest of its bytes (or "unreadable": a namespace's bind mount), for a link its target.
void snapshot_files(const std::string& dir, const std::string& label,
                    std::vector<std::string>& out) {
    static std::vector<std::string>* lines;
    static std::string prefix;
    static std::size_t dir_length;
    lines = &out;
    prefix = label;
    dir_length = dir.size();
    ::nftw(
        dir.c_str(),
        [](const char* p, const struct stat* st, int, FTW*) {
            std::string line = "file " + prefix + std::string(p).substr(dir_length);
            char mode[16];
            std::snprintf(mode, sizeof mode, " %04o", static_cast<unsigned>(st->st_mode & 07777));
            line += mode;
            // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on " " + to_string.
            line.append(" ").append(std::to_string(st->st_uid));
            line.append(":").append(std::to_string(st->st_gid));
            if (S_ISDIR(st->st_mode)) {
                line += " dir";
            } else if (S_ISLNK(st->st_mode)) {
                char target[4096];
                ssize_t n = ::readlink(p, target, sizeof target);
                line += " link " + std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
            } else if (S_ISREG(st->st_mode)) {
                auto bytes = fs::read_file(p);
                char digest[32];
                std::snprintf(digest, sizeof digest, "%016llx",
                              static_cast<unsigned long long>(bytes ? fnv1a(*bytes) : 0));
                line.append(" file ").append(std::to_string(st->st_size)).append(" ");
                line.append(bytes ? digest : "unreadable");
            } else {
                line.append(" special ").append(std::to_string(st->st_mode & S_IFMT));
            }
            lines->push_back(line);
            return 0;
        },
        64, FTW_PHYS);
}

struct Hierarchy {
    std::string mount;
    std::string kind;
};

// The cgroup hierarchies volt-run uses, from /proc/self/mountinfo.
std::vector<Hierarchy> cgroup_hierarchies() {
    std::vector<Hierarchy> out;
    auto text = fs::read_file("/proc/self/mountinfo");
    if (!text)
        return out;
    for (auto line : fs::split(*text, '\n')) {
        auto sep = line.find(" - ");
        if (sep == std::string_view::npos)
            continue;
        auto pre = fs::words(line.substr(0, sep));
        auto post = fs::words(line.substr(sep + 3));
        if (pre.size() < 5 || post.size() < 3)
            continue;
        std::string mount(pre[4]);
        if (post[0] == "cgroup2") {
            out.push_back({mount, "cgroup2"});
        } else if (post[0] == "cgroup") {
            for (auto opt : fs::split(post[2], ','))
                if (opt == "name=systemd" || opt == "devices")
                    out.push_back({mount, std::string(opt)});
        }
    }
    return out;
}

void snapshot_cgroups(const std::string& name, std::vector<std::string>& out) {
    static std::vector<std::string>* lines;
    static std::string wanted;
    static std::string label;
    static std::size_t prefix;
    lines = &out;
    wanted = name;
    for (const auto& h : cgroup_hierarchies()) {
        label = h.kind;
        prefix = h.mount.size();
        ::nftw(
            h.mount.c_str(),
            [](const char* p, const struct stat* st, int, FTW*) {
                std::string rel = std::string(p).substr(prefix);
                if (S_ISDIR(st->st_mode) && rel.find(wanted) != std::string::npos)
                    lines->push_back("cgroup " + label + " " + rel);
                return 0;
            },
            64, FTW_PHYS | FTW_MOUNT);
    }
}

void snapshot_network(std::vector<std::string>& out) {
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    auto links = sock->links();
    REQUIRE(links);
    std::map<int, std::string> names;
    for (const auto& l : *links)
        names[l.ifindex] = l.name;
    for (const auto& l : *links)
        out.push_back("link " + l.name + " kind " + l.kind + " alias " + l.alias + " master " +
                      (l.master ? names[l.master] : std::string("-")) + " mtu " +
                      std::to_string(l.mtu).append(l.up ? " up" : " down"));
    auto nft = netlink::Nftables::open();
    REQUIRE(nft);
    auto rules = nft->rules();
    REQUIRE(rules);
    for (const auto& r : *rules)
        out.push_back("nft " + r.chain + " " + r.owner);
    auto chains = nft->chains();
    REQUIRE(chains);
    for (const auto& c : *chains)
        out.push_back("nft chain " + c);
}

void snapshot_mounts(std::vector<std::string>& out) {
    auto text = fs::read_file("/proc/self/mountinfo");
    REQUIRE(text);
    for (auto line : fs::split(*text, '\n')) {
        auto sep = line.find(" - ");
        if (sep == std::string_view::npos)
            continue;
        auto pre = fs::words(line.substr(0, sep));
        auto post = fs::words(line.substr(sep + 3));
        if (pre.size() < 5 || post.size() < 2)
            continue;
        out.push_back("mount " + std::string(pre[4]) + " root " + std::string(pre[3]) + " " +
                      std::string(post[0]) + " " + std::string(post[1]));
    }
}

std::vector<std::string> lines_of_file(const std::string& path) {
    std::vector<std::string> out;
    auto text = fs::read_file(path);
    if (!text)
        return out;
    for (auto l : fs::split(*text, '\n'))
        if (!l.empty())
            out.emplace_back(l);
    return out;
}

std::string command_line(const std::vector<std::string>& args) {
    std::string out = "volt-run";
    for (const auto& a : args)
        out += " " + a;
    return out;
}

}  // namespace

OtherCgroups::OtherCgroups(const std::string& base) {
    auto self = fs::read_file("/proc/self/cgroup");
    REQUIRE(self);
    // This process's path in a hierarchy, by its /proc/self/cgroup line ("0::", "N:devices:").
    auto own = [&](const std::string& kind) {
        for (auto line : fs::split(*self, '\n')) {
            auto parts = fs::split(line, ':');
            if (parts.size() < 3)
                continue;
            auto names = fs::split(parts[1], ',');
            bool match = kind == "cgroup2"
                             ? parts[0] == "0" && parts[1].empty()
                             : std::find(names.begin(), names.end(), kind) != names.end();
            if (match)
                return std::string(line.substr(parts[0].size() + parts[1].size() + 2));
        }
        return std::string("/");
    };
    const std::string leaf = "/" + base + "-" + std::to_string(::getpid());
    for (const auto& h : cgroup_hierarchies()) {
        const std::string mine = own(h.kind);
        paths_.push_back(h.mount + (mine == "/" ? "" : mine) + leaf);
        REQUIRE(fs::mkdir_p(paths_.back()));
    }
}

OtherCgroups::~OtherCgroups() {
    for (const auto& p : paths_)
        ::rmdir(p.c_str());
}

std::vector<std::string> host_snapshot(const Sandbox& sb, const std::string& name) {
    std::vector<std::string> out;
    snapshot_files(sb.root(), "root", out);
    snapshot_files(sb.unit_dir(), "units", out);
    snapshot_files(sb.nspawn_dir(), "nspawn", out);
    snapshot_files(sb.run_dir(), "run", out);
    snapshot_cgroups(name, out);
    // systemd-nspawn's propagation directory of the machine (it removes it when it exits).
    if (auto names = fs::list_dir("/run/systemd/nspawn/propagate"))
        for (const auto& n : *names)
            if (n.find(name) != std::string::npos)
                out.push_back("nspawn propagate " + n);
    snapshot_network(out);
    snapshot_mounts(out);
    std::sort(out.begin(), out.end());
    return out;
}

std::string snapshot_diff(const std::vector<std::string>& before,
                          const std::vector<std::string>& after) {
    std::multiset<std::string> a(before.begin(), before.end()), b(after.begin(), after.end());
    std::string out;
    for (const auto& l : a)
        if (b.count(l) < a.count(l) && out.find("- " + l + "\n") == std::string::npos)
            out += "- " + l + "\n";
    for (const auto& l : b)
        if (a.count(l) < b.count(l) && out.find("+ " + l + "\n") == std::string::npos)
            out += "+ " + l + "\n";
    return out;
}

std::vector<std::string> sweep_faults(const Sandbox& sb, const std::string& name,
                                      const FaultSweep& sweep) {
    auto must = [&](const std::vector<std::string>& args,
                    const std::vector<std::string>& cgroups = {}) {
        auto r = sb.volt(args, {}, cgroups);
        INFO(command_line(args) << ": exit " << r.code << ": " << r.err);
        REQUIRE(r.code == 0);
    };
    const std::vector<std::string> force = {"delete", "--force", "--time", "0", name};
    const std::string trace = sb.dir() / "fault-trace";

    // The points, learned from a run that succeeds.
    for (const auto& p : sweep.prepare)
        must(p, sweep.cgroups);
    ::unlink(trace.c_str());
    auto learned = sb.volt(sweep.command, {"VOLT_FAULT_TRACE=" + trace}, sweep.cgroups);
    INFO(command_line(sweep.command) << ": " << learned.err);
    REQUIRE(learned.code == 0);
    const std::vector<std::string> points = lines_of_file(trace);
    REQUIRE_FALSE(points.empty());
    for (const auto& p : points) {
        INFO("fault point " << p);
        CHECK(std::count(points.begin(), points.end(), p) == 1);
    }
    if (auto r = sb.volt(force); r.code != 0) {  // a delete under test removed it already
        INFO(r.err);
        REQUIRE(r.err.find("no such container") != std::string::npos);
    }
    // The host as every attempt must leave it: with what the first run made for every container
    // (the bridge, the table, the caches), and nothing of this one.
    const std::vector<std::string> base = host_snapshot(sb, name);
    for (const auto& line : base) {
        INFO(line);
        CHECK(line.find(name) == std::string::npos);
    }

    for (const auto& point : points) {
        INFO("fault point " << point << " of " << command_line(sweep.command));
        for (const auto& p : sweep.prepare)
            must(p, sweep.cgroups);
        ::unlink(trace.c_str());
        auto killed = sb.volt(sweep.command, {"VOLT_FAULT=" + point, "VOLT_FAULT_TRACE=" + trace},
                              sweep.cgroups);
        INFO("exit " << killed.code << ": " << killed.err);
        const auto passed = lines_of_file(trace);
        CHECK((!passed.empty() && passed.back() == point));
        CHECK((killed.code == 128 + SIGKILL ||
               (killed.code != 0 && killed.err.find("(exit status 137)") != std::string::npos)));

        auto forced = sb.volt(force);
        INFO("delete --force: exit " << forced.code << ": " << forced.err);
        if (forced.code != 0) {
            // Nothing of it was made yet: then nothing of it may exist.
            CHECK(forced.err.find("no such container") != std::string::npos);
            auto now = host_snapshot(sb, name);
            INFO(snapshot_diff(base, now));
            CHECK(now == base);
        }
        auto again = sb.volt(sweep.create);
        INFO("create: exit " << again.code << ": " << again.err);
        CHECK(again.code == 0);
        auto removed = sb.volt({"delete", name});
        INFO("delete: exit " << removed.code << ": " << removed.err);
        CHECK(removed.code == 0);
        auto after = host_snapshot(sb, name);
        INFO(snapshot_diff(base, after));
        CHECK(after == base);
        if (after != base)
            (void)sb.volt(force);  // so that the next point starts clean
    }
    return points;
}

bool has_links_of(const std::string& name) {
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    auto links = sock->links();
    REQUIRE(links);
    return std::any_of(links->begin(), links->end(),
                       [&](const netlink::LinkInfo& l) { return l.alias == "volt:" + name; });
}

std::string golden(const std::string& name, const std::string& actual) {
    const std::string path = std::string(VOLT_SOURCE_DIR) + "/tests/golden/" + name;
    if (const char* update = std::getenv("VOLT_UPDATE_GOLDEN"); update && *update == '1')
        REQUIRE(fs::write_file_atomic(path, actual).ok());
    auto text = fs::read_file(path);
    INFO(path);
    REQUIRE(text.ok());
    return std::move(text).value();
}

}  // namespace volt::test
