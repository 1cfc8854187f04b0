// Containment of exec'd commands, shown on booted containers with default options: a command
// started by `volt-run exec` reaches no more than the guest's own processes. It is refused every
// system call nspawn's filter refuses the guest (compared number by number on the filters the
// kernel reports for both), and it inherits neither the caller's open files nor its keyring.
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "seccomp_eval.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// Installs the seccomp probe into a created container's /usr/bin.
void install_probe(const test::Sandbox& sb, const std::string& name) {
    auto probe = fs::read_file(VOLT_TRY_SYSCALL);
    REQUIRE(probe.ok());
    REQUIRE(fs::write_file_atomic(sb.root() + "/containers/" + name + "/usr/bin/try-syscall",
                                  *probe, 0755)
                .ok());
}

// Creates a busybox container with --network none and `options`.
void create_busybox(const test::Sandbox& sb, const std::string& name,
                    const std::vector<std::string>& options = {}) {
    std::vector<std::string> create = {"create",    name,  "--image", test::busybox_rootfs(),
                                       "--network", "none"};
    create.insert(create.end(), options.begin(), options.end());
    auto r = sb.volt(create);
    INFO(r.err);
    REQUIRE(r.code == 0);
}

void boot(const test::Sandbox& sb, const std::string& name) {
    auto r = sb.volt({"boot", "--detach", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
}

std::string ns_inode(pid_t pid, const char* ns) {
    char buf[64] = {};
    std::string link = "/proc/" + std::to_string(pid) + "/ns/" + ns;
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The host pid of the process that is `ns_pid` in the pid namespace of `init`.
pid_t host_pid_of(pid_t init, pid_t ns_pid) {
    const std::string want_ns = ns_inode(init, "pid");
    DIR* d = ::opendir("/proc");
    REQUIRE(d);
    pid_t found = 0;
    while (dirent* e = ::readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid <= 0 || ns_inode(pid, "pid") != want_ns)
            continue;
        auto status = fs::read_file("/proc/" + std::to_string(pid) + "/status");
        if (!status)
            continue;
        auto at = status->find("NSpid:");
        if (at == std::string::npos)
            continue;
        std::string line = status->substr(at, status->find('\n', at) - at);
        if (std::stoi(line.substr(line.find_last_of(" \t") + 1)) == ns_pid)
            found = pid;
    }
    ::closedir(d);
    return found;
}

struct Abi {
    const char* name;
    std::uint32_t audit_arch;
    std::uint32_t scmp_arch;
    std::uint32_t nr_bits;  // x32 numbers carry bit 30
};

// Every system call libseccomp knows for the ABIs this machine runs that the chain `first` refuses
// and `second` lets through, as "abi:name" lines. With the guest's init first and an exec'd
// command second: empty when exec is at least as restricted as the guest.
std::string refused_to_first_only(const std::vector<test::Filter>& first,
                                  const std::vector<test::Filter>& second) {
    std::vector<Abi> abis;
#if defined(__x86_64__)
    abis = {{"x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64, 0},
            {"x32", AUDIT_ARCH_X86_64, SCMP_ARCH_X32, 0x40000000},
            {"x86", AUDIT_ARCH_I386, SCMP_ARCH_X86, 0}};
#elif defined(__aarch64__)
    abis = {{"aarch64", AUDIT_ARCH_AARCH64, SCMP_ARCH_AARCH64, 0}};
#endif
    REQUIRE(!abis.empty());
    std::ostringstream out;
    for (const auto& abi : abis)
        for (int nr = 0; nr < 1024; ++nr) {
            char* name = seccomp_syscall_resolve_num_arch(abi.scmp_arch, nr);
            if (!name)
                continue;  // not a call libseccomp knows on this ABI
            std::string call = name;
            std::free(name);
            seccomp_data data{};
            data.nr = static_cast<int>(abi.nr_bits | static_cast<std::uint32_t>(nr));
            data.arch = abi.audit_arch;
            if (!test::allows(test::run_chain(first, data)) &&
                test::allows(test::run_chain(second, data)))
                out << abi.name << ":" << call << "\n";
        }
    return out.str();
}

// Boots a busybox container created with `options`, and returns the filters of its init and of a
// command exec'd into it.
struct Filters {
    std::vector<test::Filter> guest, exec;
};
// `after_boot` runs between the boot and the exec.
Filters filters_of(const test::Sandbox& sb, const std::string& name,
                   const std::vector<std::string>& options,
                   const std::function<void()>& after_boot = {}) {
    create_busybox(sb, name, options);
    boot(sb, name);
    if (after_boot)
        after_boot();
    pid_t init = sb.inspect(name).at("leader_pid").get<pid_t>();
    REQUIRE(init > 0);
    // A command that outlives its exec, so that its filters can be read.
    auto r =
        sb.volt({"exec", name, "--", "sh", "-c", "sleep 60 </dev/null >/dev/null 2>&1 & echo $!"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    pid_t sleeper = host_pid_of(init, std::atoi(r.out.c_str()));
    REQUIRE(sleeper > 0);
    Filters f;
    f.guest = test::seccomp_filters_of(init);
    f.exec = test::seccomp_filters_of(sleeper);
    CHECK(!f.guest.empty());
    CHECK(!f.exec.empty());
#if defined(__x86_64__)
    // Keyrings and file handles are out of reach of both, whatever the profile.
    for (int nr : {SYS_keyctl, SYS_add_key, SYS_request_key, SYS_open_by_handle_at}) {
        seccomp_data data{};
        data.nr = nr;
        data.arch = AUDIT_ARCH_X86_64;
        INFO("syscall " << nr);
        CHECK(test::run_chain(f.guest, data) == (SECCOMP_RET_ERRNO | EPERM));
        CHECK(test::run_chain(f.exec, data) == (SECCOMP_RET_ERRNO | EPERM));
    }
#endif
    return f;
}

}  // namespace

TEST_CASE("exec'd commands are refused every system call nspawn refuses the guest", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    SECTION("with the default profile") {
        auto f = filters_of(sb, sb.unique_name("cdef"), {});
        CHECK(refused_to_first_only(f.guest, f.exec) == "");
    }
    SECTION("with a profile naming the compat ABIs, whatever the runtime state says of it") {
        // The default profile plus Docker's archMap: its filter lets x86 and x32 calls through
        // to its rules, so exec's copy of nspawn's restrictions must cover them too, with the
        // same rules, rather than kill them. A state claiming the opposite (written by hand
        // here) must not narrow them.
        auto profile = nlohmann::json::parse(seccomp::builtin_profile_text("default"));
        profile["archMap"] = {{{"architecture", "SCMP_ARCH_X86_64"},
                               {"subArchitectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}}}};
        const std::string file = sb.dir() / "compat.json";
        REQUIRE(fs::write_file_atomic(file, profile.dump(), 0600).ok());
        const std::string name = sb.unique_name("ccompat");
        auto f = filters_of(sb, name, {"--seccomp", file}, [&] {
            const std::string state_file = sb.run_dir() + "/" + name + "/state.json";
            auto state = nlohmann::json::parse(*fs::read_file(state_file));
            REQUIRE(state.at("exec").at("seccomp_foreign_arches") == true);
            state["exec"]["seccomp_foreign_arches"] = false;
            REQUIRE(fs::write_file_atomic(state_file, state.dump(), 0600).ok());
        });
        CHECK(refused_to_first_only(f.guest, f.exec) == "");
#if defined(__x86_64__)
        seccomp_data getpid32{};
        getpid32.nr = 20;  // getpid on x86
        getpid32.arch = AUDIT_ARCH_I386;
        CHECK(test::allows(test::run_chain(f.exec, getpid32)));
        CHECK(test::allows(test::run_chain(f.guest, getpid32)));
#endif
    }
    SECTION("with no profile, no Landlock and no user namespace") {
        auto f =
            filters_of(sb, sb.unique_name("cunc"),
                       {"--seccomp", "unconfined", "--landlock", "none", "--no-private-users"});
        // The guest has nspawn's filters only; exec'd commands volt-run's copy of them: the same
        // calls refused, no fewer and no more.
        CHECK(refused_to_first_only(f.guest, f.exec) == "");
        CHECK(refused_to_first_only(f.exec, f.guest) == "");
    }
}

TEST_CASE("exec'd commands cannot use keyrings, file handles or audit sockets", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    for (auto options : {std::vector<std::string>{},
                         std::vector<std::string>{"--seccomp", "unconfined", "--landlock", "none",
                                                  "--no-private-users"}}) {
        test::Sandbox sb;
        std::string name = sb.unique_name("cks");
        INFO(options.size());
        create_busybox(sb, name, options);
        install_probe(sb, name);
        boot(sb, name);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "getpid"}).code == 0);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "keyctl"}).code == EPERM);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "add_key"}).code == EPERM);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "open_by_handle_at"}).code == EPERM);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "bpf"}).code == EPERM);
        CHECK(sb.volt({"exec", name, "--", "try-syscall", "audit-socket"}).code == EAFNOSUPPORT);
        REQUIRE(sb.volt({"stop", name}).code == 0);
        REQUIRE(sb.volt({"delete", name}).code == 0);
    }
}

TEST_CASE("exec'd commands inherit no file descriptor but stdio, and get no_new_privs", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("cfd");
    create_busybox(sb, name);
    boot(sb, name);
    // A host file and a host directory open in the caller, inherited by volt-run (no CLOEXEC).
    std::string host_file = sb.dir() / "host-file";
    REQUIRE(fs::write_file_atomic(host_file, "", 0600).ok());
    // Moved above the numbers ls itself uses (3 for the directory it reads), so that a leak
    // cannot pass for ls's own descriptor when the test runs alone with fds 3 and 4 free.
    auto high = [](int fd) {
        int moved = ::fcntl(fd, F_DUPFD, 40);
        ::close(fd);
        return moved;
    };
    int file = high(::open(host_file.c_str(), O_WRONLY));
    int dir = high(::open(sb.dir().path().c_str(), O_RDONLY | O_DIRECTORY));
    REQUIRE(file >= 40);
    REQUIRE(dir >= 40);
    std::string script = "ls /proc/self/fd; echo X >&" + std::to_string(file) + " && echo wrote";
    auto r = sb.volt({"exec", name, "--", "sh", "-c", script});
    ::close(file);
    ::close(dir);
    INFO(r.out << r.err);
    // ls sees 0, 1, 2 and the directory it reads (3), nothing else.
    CHECK(r.out.rfind("0\n1\n2\n3\n", 0) == 0);
    CHECK(r.out.find("\n4\n") == std::string::npos);
    auto line = [](int fd) { return std::string("\n").append(std::to_string(fd)).append("\n"); };
    CHECK(r.out.find(line(file)) == std::string::npos);
    CHECK(r.out.find(line(dir)) == std::string::npos);
    CHECK(r.out.find("wrote") == std::string::npos);
    CHECK(fs::read_file(host_file).value() == "");
    // no_new_privs, unless asked otherwise.
    r = sb.volt({"exec", name, "--", "sh", "-c", "grep NoNewPrivs /proc/self/status"});
    CHECK(r.out == "NoNewPrivs:\t1\n");
    r = sb.volt({"exec", "--allow-new-privileges", name, "--", "sh", "-c",
                 "grep NoNewPrivs /proc/self/status"});
    CHECK(r.out == "NoNewPrivs:\t0\n");
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("the guest inherits no file descriptor of the caller of boot", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("cbf");
    create_busybox(sb, name);
    std::string host_file = sb.dir() / "host-file";
    REQUIRE(fs::write_file_atomic(host_file, "", 0600).ok());
    int file = ::open(host_file.c_str(), O_WRONLY);
    REQUIRE(file >= 3);
    boot(sb, name);
    ::close(file);
    pid_t init = sb.inspect(name).at("leader_pid").get<pid_t>();
    pid_t nspawn = sb.inspect(name).at("nspawn_pid").get<pid_t>();
    // Neither nspawn nor the guest's init holds the caller's file.
    for (pid_t pid : {init, nspawn}) {
        std::string fds = "/proc/" + std::to_string(pid) + "/fd";
        for (const auto& entry : test::tree(fds)) {
            char target[4096] = {};
            ::readlink((fds + "/" + entry).c_str(), target, sizeof target - 1);
            INFO(pid << " fd " << entry << " -> " << target);
            CHECK(std::string(target) != host_file);
        }
    }
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("exec'd commands take no groups, umask, personality or limits of the caller", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    REQUIRE(test::have_program("/usr/bin/setpriv"));
    test::Sandbox sb;
    std::string name = sb.unique_name("ccr");
    // Without a user namespace the command keeps host ids: what it must not keep shows best.
    create_busybox(sb, name, {"--no-private-users"});
    boot(sb, name);
    std::vector<std::string> env = sb.env();
    // The caller: in group 6 (disk) and 4242, umask 077, ASLR off, 64 open files (soft limit:
    // without CAP_SYS_RESOURCE nobody may raise a hard one again).
    auto r =
        test::run({"/usr/bin/setpriv", "--groups", "6,4242", "--", "/bin/sh", "-c",
                   "umask 077; ulimit -S -n 64; exec setarch -R \"$0\" exec \"$1\" -- sh -c "
                   "'grep -E \"^Groups\" /proc/self/status; umask; cat /proc/self/personality; "
                   "ulimit -n'",
                   test::volt_run_binary(), name},
                  env);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    std::string groups = r.out.substr(0, r.out.find('\n'));
    CHECK(groups.rfind("Groups:", 0) == 0);
    CHECK(groups.find_first_of("0123456789") == std::string::npos);
    CHECK(r.out.find("\n0022\n") != std::string::npos);
    CHECK(r.out.find("\n00000000\n") != std::string::npos);
    CHECK(r.out.find("\n64\n") == std::string::npos);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
