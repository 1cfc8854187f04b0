// The bad-input matrix (issue 15): every command, option and file format given a bad value. Each
// row is one command line (or a damaged file and a command that meets it), the exit code README
// "Exit codes" documents for it (2 usage, 125 volt-run failed), and text its one-line error must
// hold. Around every row, a snapshot of everything volt-run could have changed shows that
// nothing did: every file below the sandbox's data root, unit, settings and run directories
// (name, type, mode, size, content), the cgroups of this test's containers in every hierarchy,
// the links of the test's network namespace (tests/ns-run makes one), its nftables rules, and the
// network namespaces mounted in /run/netns.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "base/fs.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/options.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// One entry of a snapshot: its path and what it is (kind, mode, size, contents' hash).
using Snapshot = std::map<std::string, std::string>;

void walk(const std::string& top, const std::string& label, Snapshot& out,
          const std::function<bool(const std::string&)>& keep = {}) {
    std::vector<std::string> stack = {""};
    while (!stack.empty()) {
        std::string rel = stack.back();
        stack.pop_back();
        const std::string path = rel.empty() ? top : top + "/" + rel;
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0)
            continue;
        std::ostringstream what;
        what << std::oct << st.st_mode << std::dec << " " << st.st_size;
        if (S_ISREG(st.st_mode) && !label.starts_with("cgroup")) {
            auto text = fs::read_file(path);
            what << " " << std::hash<std::string>{}(text ? *text : std::string("unreadable"));
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlink(path.c_str(), target, sizeof target);
            what << " -> " << std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
        }
        if (!keep || keep(rel))
            out[label + ":" + rel] = what.str();
        if (!S_ISDIR(st.st_mode))
            continue;
        DIR* d = ::opendir(path.c_str());
        if (!d)
            continue;
        while (dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n == "." || n == "..")
                continue;
            // A cgroup's files are the kernel's; its directories are what a command makes.
            if (label.starts_with("cgroup") && e->d_type != DT_DIR)
                continue;
            stack.push_back(rel.empty() ? n : rel + "/" + n);
        }
        ::closedir(d);
    }
}

// What a command could leave behind. `token` is in every container name of the test (the pid),
// so that cgroups other tests make in parallel stay out of it.
Snapshot snapshot(const test::Sandbox& sb, const std::string& token) {
    Snapshot s;
    walk(sb.root(), "root", s);
    walk(sb.unit_dir(), "units", s);
    walk(sb.nspawn_dir(), "nspawn", s);
    walk(sb.run_dir(), "run", s);
    auto ours = [&](const std::string& rel) { return rel.find(token) != std::string::npos; };
    for (const char* h : {"unified", "systemd", "devices", "memory", "cpu", "pids", "freezer"}) {
        walk(std::string("/sys/fs/cgroup/") + h, std::string("cgroup-") + h, s, ours);
    }
    if (auto dev = fs::read_file("/proc/self/net/dev")) {
        std::istringstream lines(*dev);
        std::string line;
        while (std::getline(lines, line))
            if (auto colon = line.find(':'); colon != std::string::npos)
                s["link:" + line.substr(line.find_first_not_of(' '), colon)] = "";
    }
    if (auto nft = netlink::Nftables::open())
        if (auto rules = nft->rules())
            for (const auto& r : *rules)
                s["nft:" + r.chain + ":" + std::to_string(r.handle)] = r.owner;
    walk("/run/netns", "netns", s, ours);
    return s;
}

std::string diff(const Snapshot& before, const Snapshot& after) {
    std::string out;
    for (const auto& [k, v] : before)
        if (auto it = after.find(k); it == after.end())
            out += "  gone: " + k + "\n";
        else if (it->second != v)
            out += "  changed: " + k + " (" + v + " -> " + it->second + ")\n";
    for (const auto& [k, v] : after)
        if (!before.count(k))
            out += "  new: " + k + "\n";
    return out;
}

std::size_t lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// A row of the matrix. In args, {x} is replaced by the fixture's value named x (see below).
struct Row {
    std::vector<std::string> args;
    int code;
    std::string text;  // in the error line
};

// A damaged file of the container {d}, and a command that reads it.
struct DamageRow {
    const char* file;  // spec, state, seccomp, landlock, lease
    std::string content;
    std::vector<std::string> args;
    int code;
    std::string text;
};

constexpr int U = 2;    // usage error
constexpr int R = 125;  // volt-run failed

std::string deep(const std::string& open, const std::string& close, int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += open;
    for (int i = 0; i < n; ++i)
        s += close;
    return s;
}

}  // namespace

TEST_CASE(
    "bad input: every command and file format refuses in one line, with its exit code, "
    "and changes nothing",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root (cgroups, nftables, network namespaces)");
    test::Sandbox sb;
    test::TempDir src("volt-bad-input");
    const std::string token = std::to_string(::getpid());
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();

    // The fixture: a stopped container {c} (private network, forwarding 8080), one {d} with
    // custom profile files whose files the damage rows break, and files given as values.
    const std::string c = sb.unique_name("hm-c");
    const std::string d = sb.unique_name("hm-d");
    const std::string n = sb.unique_name("hm-new");
    const std::string dir = src / "dir";
    const std::string file = src / "file";
    REQUIRE(fs::mkdir_p(dir, 0755));
    REQUIRE(fs::write_file_atomic(file, "x\n", 0644));
    REQUIRE(::symlink(dir.c_str(), (src / "link").c_str()) == 0);
    std::map<std::string, std::string> files = {
        {"sc-good", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], )"
                    R"("action": "SCMP_ACT_ALLOW"}]})"},
        {"ll-good", "fs /usr read-file\nnet bind-tcp none\n"},
        {"sc-empty", ""},
        {"sc-notjson", "this is not JSON"},
        {"sc-array", "[1, 2, 3]"},
        {"sc-noaction", R"({"syscalls": []})"},
        {"sc-badaction", R"({"defaultAction": "SCMP_ACT_EXPLODE"})"},
        {"sc-errno-neg", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -5})"},
        {"sc-errno-big", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000})"},
        {"sc-errno-frac", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], )"
                          R"("action": "SCMP_ACT_ERRNO", "errnoRet": 1.5}]})"},
        {"sc-unknown-call",
         R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_call"], )"
         R"("action": "SCMP_ACT_ERRNO"}]})"},
        {"sc-names-type", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", )"
                          R"("action": "SCMP_ACT_ERRNO"}]})"},
        {"sc-deep", deep("[", "]", 100000)},
        {"sc-deep-obj", deep("{\"a\":", "}", 50000)},
        {"sc-nul", std::string("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\0x", 37)},
        {"ll-empty", ""},
        {"ll-garbage", "{{{"},
        {"ll-relative", "fs usr read-file\n"},
        {"ll-access", "fs /usr fly\n"},
        {"ll-mask", "fs /usr 0xffffffffffffffffff\n"},
        {"ll-port", "net bind-tcp 70000\n"},
        {"ll-proto", "net bind-udp 53\n"},
        {"ll-scope", "scope everything\n"},
        {"ll-nul", std::string("fs /usr read-file\0\n", 19)},
        {"ll-long", "fs /" + std::string(1 << 21, 'a') + " read-file\n"},
    };
    for (const auto& [key, text] : files)
        REQUIRE(fs::write_file_atomic(src / key, text, 0644));
    // A profile bigger than create reads (kMaxProfileBytes is far below this).
    {
        std::string huge = R"({"defaultAction": "SCMP_ACT_ALLOW", "x": ")";
        huge.append(64u << 20, 'a').append("\"}");
        REQUIRE(fs::write_file_atomic(src / "sc-huge", huge, 0644));
    }
    REQUIRE(::mkfifo((src / "fifo").c_str(), 0644) == 0);

    auto made = sb.volt({"create", c, "--image", img, "--port", "8080:80"});
    INFO(made.err);
    REQUIRE(made.code == 0);
    made = sb.volt({"create", d, "--image", img, "--network", "none", "--seccomp", src / "sc-good",
                    "--landlock", src / "ll-good"});
    INFO(made.err);
    REQUIRE(made.code == 0);

    const std::map<std::string, std::string> values = {
        {"c", c},
        {"d", d},
        {"n", n},
        {"img", img},
        {"dir", dir},
        {"file", file},
        {"link", src / "link"},
        {"src", src.path()},
        {"fifo", src / "fifo"},
        {"nul-free-ctl", "a\nb"},
        // Over the limit by one byte, and still one argument the test can pass to volt-run.
        {"big-env", "E=" + std::string(runtime::kMaxEnvEntryBytes - 1, 'x')},
    };
    auto expand = [&](const std::vector<std::string>& args) {
        std::vector<std::string> out;
        for (std::string a : args) {
            for (;;) {
                auto open = a.find('{');
                auto close = a.find('}', open);
                if (open == std::string::npos || close == std::string::npos)
                    break;
                std::string key = a.substr(open + 1, close - open - 1);
                std::string value;
                if (auto it = values.find(key); it != values.end())
                    value = it->second;
                else if (key.starts_with("f:"))
                    value = src / key.substr(2);
                else
                    break;
                a.replace(open, close - open + 1, value);
            }
            out.push_back(a);
        }
        return out;
    };

    // clang-format off
    const std::vector<Row> rows = {
        // The command line itself.
        {{}, U, "A subcommand is required"},
        {{"frobnicate"}, U, "unknown command 'frobnicate'"},
        {{"--bogus", "list"}, U, "--bogus"},
        {{"list", "--bogus"}, U, "--bogus"},
        {{"list", "extra"}, U, "extra"},
        {{"-vvvvx", "list"}, U, "x"},
        // Global options and paths.
        {{"--root", "", "list"}, U, "--root: invalid value ''"},
        {{"--root", "relative", "list"}, U, "--root"},
        {{"--root", "/a\nb", "list"}, U, "--root"},
        {{"--root", "{file}", "list"}, R, "file/config: Not a directory"},
        {{"--unit-dir", "rel/units", "list"}, U, "--unit-dir"},
        {{"--nspawn-dir", "", "list"}, U, "--nspawn-dir"},
        {{"--run-dir", "x", "list"}, U, "--run-dir"},
        {{"--cgroup-root", "", "list"}, U, "--cgroup-root"},
        {{"--cgroup-root", "rel", "list"}, U, "--cgroup-root"},
        {{"--subnet", "bad", "list"}, U, "--subnet: invalid subnet 'bad'"},
        {{"--subnet", "", "list"}, U, "--subnet: invalid value ''"},
        {{"--subnet", "10.88.0.0", "list"}, U, "expected ADDRESS/PREFIX"},
        {{"--subnet", "10.88.0.0/33", "list"}, U, "prefix length"},
        {{"--subnet", "10.88.0.0/0", "list"}, U, "prefix length"},
        {{"--subnet", "10.88.0.0/31", "list"}, U, "prefix length"},
        {{"--subnet", "10.88.0.1/16", "list"}, U, "host bits are set"},
        {{"--subnet", "300.1.0.0/16", "list"}, U, "not an IPv4 address"},
        {{"--subnet", "127.0.0.0/8", "list"}, U, "loopback"},
        {{"--subnet", "0.0.0.0/1", "list"}, U, "this network"},
        {{"--subnet", "224.0.0.0/4", "list"}, U, "multicast"},
        {{"--subnet", "10.88.0.0/16\n", "list"}, U, "--subnet"},
        {{"--subnet", "bad", "create", "{n}", "--image", "{img}"}, U, "--subnet: invalid subnet 'bad'"},
        // create: the name and the image.
        {{"create"}, U, "name is required"},
        {{"create", "{n}"}, U, "--image is required"},
        {{"create", "", "--image", "{img}"}, U, "invalid container name ''"},
        {{"create", "-x", "--image", "{img}"}, U, "name is required"},
        {{"create", ".hidden", "--image", "{img}"}, U, "invalid container name '.hidden'"},
        {{"create", "a/b", "--image", "{img}"}, U, "invalid container name 'a/b'"},
        {{"create", "a..b", "--image", "{img}"}, U, "empty label"},
        {{"create", "a_b", "--image", "{img}"}, U, "invalid container name 'a_b'"},
        {{"create", "ab-", "--image", "{img}"}, U, "starts or ends with '-'"},
        {{"create", std::string(65, 'a'), "--image", "{img}"}, U, "longer than 64"},
        {{"create", "a\nb", "--image", "{img}"}, U, "invalid container name 'a\\nb'"},
        {{"create", "{c}", "--image", "{img}"}, U, "already exists"},
        {{"create", "{n}", "--image", ""}, U, "--image: invalid value ''"},
        {{"create", "{n}", "--image", "{file}"}, U, "not a directory"},
        {{"create", "{n}", "--image", "no-such-image"}, U, "no directory no-such-image"},
        {{"create", "{n}", "--image", "/no/such/dir"}, U, "not a directory"},
        {{"create", "{n}", "--image", "{img}\n"}, U, "--image"},
        // create: limits.
        {{"create", "{n}", "--image", "{img}", "--memory", ""}, U, "--memory: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--memory", "12Q"}, U, "unknown unit 'Q'"},
        {{"create", "{n}", "--image", "{img}", "--memory", "0"}, U, "greater than zero"},
        {{"create", "{n}", "--image", "{img}", "--memory", "-1"}, U, "--memory: invalid value '-1'"},
        {{"create", "{n}", "--image", "{img}", "--memory", "M"}, U, "expected a size"},
        {{"create", "{n}", "--image", "{img}", "--memory", "99999999999T"}, U, "too large"},
        {{"create", "{n}", "--image", "{img}", "--memory", "1.5G"}, U, "--memory: invalid value '1.5G'"},
        {{"create", "{n}", "--image", "{img}", "--memory", " 1G"}, U, "--memory"},
        {{"create", "{n}", "--image", "{img}", "--memory-high", ""}, U, "--memory-high: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--memory", "1G", "--memory-high", "2G"}, U, "above --memory"},
        {{"create", "{n}", "--image", "{img}", "--memory-swap", ""}, U, "--memory-swap: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--memory-swap", "1X"}, U, "unknown unit 'X'"},
        {{"create", "{n}", "--image", "{img}", "--cpus", ""}, U, "--cpus: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "0"}, U, "at least 0.01"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "1.2345"}, U, "at most 3 decimals"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "2000"}, U, "at most 1024"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "-1"}, U, "--cpus: invalid value '-1'"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "."}, U, "--cpus: invalid value '.'"},
        {{"create", "{n}", "--image", "{img}", "--cpus", "1e3"}, U, "--cpus: invalid value '1e3'"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", ""}, U, "--cpuset: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", "3-1"}, U, "descending"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", "1,1"}, U, "ascending"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", "5000"}, U, "--cpuset: invalid value '5000'"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", "a"}, U, "--cpuset: invalid value 'a'"},
        {{"create", "{n}", "--image", "{img}", "--cpuset", "0,"}, U, "--cpuset: invalid value '0,'"},
        {{"create", "{n}", "--image", "{img}", "--cpu-weight", ""}, U, "--cpu-weight: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--cpu-weight", "0"}, U, "out of range 1 to 10000"},
        {{"create", "{n}", "--image", "{img}", "--cpu-weight", "10001"}, U, "out of range 1 to 10000"},
        {{"create", "{n}", "--image", "{img}", "--io-weight", "x"}, U, "--io-weight: invalid value 'x'"},
        {{"create", "{n}", "--image", "{img}", "--io-weight", ""}, U, "--io-weight: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--pids-max", "0"}, U, "--pids-max: invalid value '0'"},
        {{"create", "{n}", "--image", "{img}", "--pids-max", ""}, U, "--pids-max: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--pids-max", "99999999999999999999999"}, U, "--pids-max"},
        {{"create", "{n}", "--image", "{img}", "--missing-controllers", "maybe"}, U, "expected refuse or ignore"},
        {{"create", "{n}", "--image", "{img}", "--missing-controllers", ""}, U, "--missing-controllers: invalid value ''"},
        // create: network.
        {{"create", "{n}", "--image", "{img}", "--network", ""}, U, "--network: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--network", "a-very-long-bridge-name"}, U, "1 to 15 characters"},
        {{"create", "{n}", "--image", "{img}", "--network", "br/0"}, U, "--network: invalid value 'br/0'"},
        {{"create", "{n}", "--image", "{img}", "--network", ".."}, U, "not an interface name"},
        {{"create", "{n}", "--image", "{img}", "--port", ""}, U, "--port: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--port", "80"}, U, "expected [tcp|udp:]HOST:CONTAINER"},
        {{"create", "{n}", "--image", "{img}", "--port", "0:80"}, U, "out of range 1-65535"},
        {{"create", "{n}", "--image", "{img}", "--port", "8081:70000"}, U, "out of range 1-65535"},
        {{"create", "{n}", "--image", "{img}", "--port", "sctp:1:2"}, U, "protocol must be tcp or udp"},
        {{"create", "{n}", "--image", "{img}", "--port", "a:b"}, U, "--port: invalid value 'a:b'"},
        {{"create", "{n}", "--image", "{img}", "--port", "8081:80", "--port", "8081:81"}, U, "forwarded twice"},
        {{"create", "{n}", "--image", "{img}", "--network", "host", "--port", "8081:80"}, U, "not host"},
        {{"create", "{n}", "--image", "{img}", "--port", "8080:80"}, U, "forwarded to container " + c},
        {{"create", "{n}", "--image", "{img}", "--port", "tcp:8080:9999"}, U, "forwarded to container " + c},
        {{"create", "{n}", "--image", "{img}", "--dns", ""}, U, "--dns: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--dns", "1.2.3"}, U, "not an IPv4 or IPv6 address"},
        {{"create", "{n}", "--image", "{img}", "--dns", "::g"}, U, "not an IPv4 or IPv6 address"},
        {{"create", "{n}", "--image", "{img}", "--network", "none", "--dns", "1.1.1.1"}, U, "not none"},
        // create: environment, volumes, devices.
        {{"create", "{n}", "--image", "{img}", "--env", ""}, U, "--env: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--env", "NOVALUE"}, U, "expected KEY=VALUE"},
        {{"create", "{n}", "--image", "{img}", "--env", "=x"}, U, "variable name is empty"},
        {{"create", "{n}", "--image", "{img}", "--env", "1A=x"}, U, "must not start with a digit"},
        {{"create", "{n}", "--image", "{img}", "--env", "A-B=x"}, U, "only letters, digits and '_'"},
        {{"create", "{n}", "--image", "{img}", "--env", "A={nul-free-ctl}"}, U, "control characters"},
        {{"create", "{n}", "--image", "{img}", "--env", "A=\xff"}, U, "not valid UTF-8"},
        {{"create", "{n}", "--image", "{img}", "--env", "{big-env}"}, U, "MAX_ARG_STRLEN"},
        {{"create", "{n}", "--image", "{img}", "--volume", ""}, U, "--volume: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}"}, U, "expected HOST:CONTAINER"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/mnt:rx"}, U, "unknown option 'rx'"},
        {{"create", "{n}", "--image", "{img}", "--volume", "rel:/mnt"}, U, "host path must be absolute"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:mnt"}, U, "container path must be absolute"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}/..:/mnt"}, U, "'..'"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/"}, U, "container's root"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/proc"}, U, "cannot mount on /proc"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/sys/x"}, U, "cannot mount on /sys"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/dev//"}, U, "cannot mount on /dev"},
        {{"create", "{n}", "--image", "{img}", "--volume", "/no/such:/mnt"}, U, "No such file"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/m,x"}, U, "nspawn would read differently"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/mnt ", }, U, "ends in a space"},
        {{"create", "{n}", "--image", "{img}", "--volume", "{dir}:/a", "--volume", "{file}:/a/"}, U, "mounted twice"},
        {{"create", "{n}", "--image", "{img}", "--device", ""}, U, "--device: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--device", "dev/null"}, U, "path must be absolute"},
        {{"create", "{n}", "--image", "{img}", "--device", "/dev/null:rwx"}, U, "letters of rwm"},
        {{"create", "{n}", "--image", "{img}", "--device", "/dev/null:r:w"}, U, "expected PATH[:rwm]"},
        {{"create", "{n}", "--image", "{img}", "--device", "{file}"}, U, "not a character or block device"},
        {{"create", "{n}", "--image", "{img}", "--device", "/dev/no-such"}, U, "no device node"},
        {{"create", "{n}", "--image", "{img}", "--device", "/dev/../dev/null"}, U, "'..'"},
        {{"create", "{n}", "--image", "{img}", "--device", "/dev/null", "--device", "/dev/null:r"}, U, "given twice"},
        // create: confinement, profile and policy files.
        {{"create", "{n}", "--image", "{img}", "--seccomp", ""}, U, "--seccomp: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "lax"}, U, "expected one of default, strict, unconfined"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "/no/such.json"}, U, "no such profile file"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{dir}"}, U, "no such profile file"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{fifo}"}, U, "no such profile file"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-empty}"}, U, "sc-empty: byte 1: malformed JSON"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-notjson}"}, U, "sc-notjson"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-array}"}, U, "sc-array"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-noaction}"}, U, "defaultAction"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-badaction}"}, U, "SCMP_ACT_EXPLODE"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-errno-neg}"}, U, "defaultErrnoRet"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-errno-big}"}, U, "defaultErrnoRet"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-errno-frac}"}, U, "errnoRet"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-unknown-call}"}, U, "no_such_call"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-names-type}"}, U, "names"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-deep}"}, U, "sc-deep"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-deep-obj}"}, U, "sc-deep-obj"},
        {{"create", "{n}", "--image", "{img}", "--seccomp", "{f:sc-huge}"}, U, "sc-huge"},
        {{"create", "{n}", "--image", "{img}", "--seccomp-unknown-syscalls", "ignore"}, U, "expected error or warn"},
        {{"create", "{n}", "--image", "{img}", "--landlock", ""}, U, "--landlock: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "tight"}, U, "expected one of server, desktop, none"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "/no/such"}, U, "no such profile file"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-garbage}"}, U, "ll-garbage"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-relative}"}, U, "usr"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-access}"}, U, "fly"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-mask}"}, U, "ll-mask"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-port}"}, U, "70000"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-proto}"}, U, "ll-proto"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-scope}"}, U, "everything"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-nul}"}, U, "ll-nul"},
        {{"create", "{n}", "--image", "{img}", "--landlock", "{f:ll-long}"}, U, "ll-long"},
        {{"create", "{n}", "--image", "{img}", "--landlock-mode", "strict"}, U, "expected best-effort or require"},
        {{"create", "{n}", "--image", "{img}", "--landlock-mode", ""}, U, "--landlock-mode: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--kernel", "/no/such/vmlinuz"}, U, "--kernel: invalid value '/no/such/vmlinuz'"},
        {{"create", "{n}", "--image", "{img}", "--kernel", "{dir}"}, U, "--kernel"},
        {{"create", "{n}", "--image", "{img}", "--kernel", ""}, U, "--kernel: invalid value ''"},
        {{"create", "{n}", "--image", "{img}", "--start"}, U, "no system bus"},
        {{"create", "{n}", "--image", "{img}", "--enable"}, U, "no system bus"},
        {{"create", "{n}", "--image", "{img}", "--read-only=maybe"}, U, "--read-only"},
        // update.
        {{"update"}, U, "name is required"},
        {{"update", "no-such", "--memory", "1G"}, U, "no such container: no-such"},
        {{"update", "{c}", "--memory", ""}, U, "--memory: invalid value ''"},
        {{"update", "{c}", "--memory", "12Q"}, U, "unknown unit 'Q'"},
        {{"update", "{c}", "--cpus", "0"}, U, "at least 0.01"},
        {{"update", "{c}", "--cpuset", ""}, U, "--cpuset: invalid value ''"},
        {{"update", "{c}", "--pids-max", "-5"}, U, "--pids-max"},
        {{"update", "{c}", "--cpu-weight", "abc"}, U, "--cpu-weight: invalid value 'abc'"},
        {{"update", "{c}", "--image", "{img}"}, U, "--image"},
        // boot.
        {{"boot"}, U, "name is required"},
        {{"boot", "no-such"}, U, "no such container: no-such"},
        {{"boot", "{c}", "--timeout", "0"}, U, "--timeout"},
        {{"boot", "{c}", "--timeout", "x"}, U, "--timeout"},
        {{"boot", "{c}", "--timeout", ""}, U, "--timeout"},
        {{"boot", "{c}", "--detach", "--timeout", "99999"}, U, "--timeout"},
        {{"--subnet", "10.88.0.1/16", "boot", "{c}"}, U, "host bits are set"},
        // exec.
        {{"exec"}, U, "name is required"},
        {{"exec", "no-such", "--", "true"}, U, "no such container: no-such"},
        {{"exec", "{c}", "--", "true"}, U, "not running"},
        {{"exec", "{c}"}, U, "not running"},
        {{"exec", "--detach", "--tty", "{c}"}, U, "--detach cannot be combined with --tty"},
        {{"exec", "--user", "", "{c}", "--", "id"}, U, "--user: invalid value ''"},
        {{"exec", "--user", "a:", "{c}", "--", "id"}, U, "--user: invalid value 'a:'"},
        {{"exec", "--user", "a", "--allow-new-privileges", "{c}", "--", "id"}, U,
         "--allow-new-privileges cannot be combined with --user"},
        {{"exec", "--env", "1=2", "{c}", "--", "true"}, U, "--env"},
        {{"exec", "--env", "", "{c}", "--", "true"}, U, "--env: invalid value ''"},
        {{"exec", "--env", "{big-env}", "{c}", "--", "true"}, U, "MAX_ARG_STRLEN"},
        {{"exec", "--workdir", "", "{c}", "--", "true"}, U, "--workdir: invalid value ''"},
        {{"exec", "--workdir", "rel", "{c}", "--", "true"}, U, "--workdir"},
        {{"exec", "--seccomp", "", "{c}", "--", "true"}, U, "--seccomp: invalid value ''"},
        {{"exec", "--seccomp", "lax", "{c}", "--", "true"}, U, "not running"},
        {{"exec", "--landlock-mode", "strict", "{c}", "--", "true"}, U, "expected best-effort or require"},
        {{"exec", "--landlock-mode", "", "{c}", "--", "true"}, U, "--landlock-mode: invalid value ''"},
        // cp.
        {{"cp"}, U, "src is required"},
        {{"cp", "{c}:/etc/os-release"}, U, "dst is required"},
        {{"cp", "no-such:/etc/os-release", "{dir}"}, U, "no such container: no-such"},
        {{"cp", "{c}:/no/such", "{dir}"}, U, "{c}:/no/such: no such file or directory"},
        {{"cp", "{file}", "{c}:/no/such/f"}, U, "its directory does not exist"},
        {{"cp", "{file}", "{c}:/etc/os-release/"}, U, "not a directory"},
        {{"cp", ":x", "{c}:/"}, U, "no container name before ':'"},
        {{"cp", "{c}:", "{dir}"}, U, "no path after ':'"},
        {{"cp", "a b:/x", "{dir}"}, U, "invalid container name 'a b'"},
        {{"cp", "{file}", "{dir}"}, U, "neither path is in a container"},
        {{"cp", "{c}:/etc", "{c}:/etc2"}, U, "both paths are in containers"},
        {{"cp", "{c}:/", "{dir}"}, U, "name a file or directory"},
        // stop, delete, start, restart, status.
        {{"stop"}, U, "name is required"},
        {{"stop", "no-such"}, U, "no such container: no-such"},
        {{"stop", "{c}", "--time", "-1"}, U, "--time"},
        {{"stop", "{c}", "--time", "3601"}, U, "--time"},
        {{"stop", "{c}", "--time", ""}, U, "--time"},
        {{"stop", "a/../b"}, U, "invalid container name"},
        {{"delete"}, U, "name is required"},
        {{"delete", "no-such"}, U, "no such container: no-such"},
        {{"delete", "--force", "no-such"}, U, "no such container: no-such"},
        {{"delete", "{c}", "--time", "x"}, U, "--time"},
        {{"rm", "..", "--force"}, U, "invalid container name '..'"},
        {{"start", "{c}"}, R, "no system bus"},
        {{"start", "no-such"}, U, "no-such"},
        {{"restart", "{c}", "--no-block"}, R, "no system"},
        {{"status", "{c}"}, R, "no system bus"},
        {{"status", ""}, U, "invalid container name ''"},
        // list, inspect, check, stats, pause, resume, logs.
        {{"inspect"}, U, "name is required"},
        {{"inspect", "no-such"}, U, "no such container: no-such"},
        {{"inspect", "{c}", "--format", "x"}, U, "--format"},
        {{"check", "--json", "x"}, U, "x"},
        {{"stats", "no-such"}, U, "no such container: no-such"},
        {{"stats", "{c}"}, U, "not running"},
        {{"pause", "{c}"}, U, "not running"},
        {{"pause", "no-such"}, U, "no such container: no-such"},
        {{"resume", "{c}"}, U, "not running"},
        {{"logs"}, U, "name is required"},
        {{"logs", "{c}", "--since", "2026-02-31"}, U, "--since: invalid value '2026-02-31': no such date"},
        {{"logs", "{c}", "--since", "2025-02-29"}, U, "no such date"},
        {{"logs", "{c}", "--since", "2026-04-31 10:00"}, U, "no such date"},
        {{"logs", "{c}", "--since", "2026-13-01"}, U, "--since: invalid value '2026-13-01'"},
        {{"logs", "{c}", "--since", "2026-01-01 24:00"}, U, "--since"},
        {{"logs", "{c}", "--since", "2026-01-01 10:60"}, U, "--since"},
        {{"logs", "{c}", "--since", "2026-01-01 10:00:60"}, U, "--since"},
        {{"logs", "{c}", "--since", "1969-12-31"}, U, "--since"},
        {{"logs", "{c}", "--since", ""}, U, "--since: invalid value ''"},
        {{"logs", "{c}", "--since", "tomorrow"}, U, "--since: invalid value 'tomorrow'"},
        {{"logs", "{c}", "--since", "-5parsecs"}, U, "--since"},
        {{"logs", "{c}", "--since", "@99999999999999999"}, U, "--since"},
        {{"logs", "{c}", "--since", "2026-01-01x"}, U, "--since"},
        {{"logs", "{c}", "-n", "-1"}, U, "--lines"},
        {{"logs", "{c}", "-n", "x"}, U, "--lines"},
        {{"logs", "{c}", "-n", ""}, U, "--lines"},
    };
    // clang-format on

    // Files in the data root, damaged: each row puts `content` in one file of {d} (a lease line
    // into the bridge's lease file), runs a command that reads it, and restores the file.
    const std::string big_spec(2 << 20, ' ');
    // clang-format off
    const std::vector<DamageRow> damage_rows = {
        {"spec", "", {"boot", "{d}"}, R, "spec"},
        {"spec", "{", {"boot", "{d}"}, R, "spec"},
        {"spec", "[]", {"update", "{d}", "--memory", "1G"}, R, "spec"},
        {"spec", R"({"version": 99})", {"boot", "{d}"}, R, "version: unsupported value 99"},
        {"spec", R"({"version": "1"})", {"inspect", "{d}"}, R, "version"},
        {"spec", big_spec, {"boot", "{d}"}, R, "spec"},
        {"state", "{", {"stats", "{d}"}, R, "state.json"},
        {"state", "[1]", {"pause", "{d}"}, R, "state.json: expected an object, not [1]"},
        {"state", R"({"nspawn_pid": -1})", {"exec", "{d}", "--", "true"}, R, "state.json"},
        {"state", "{", {"resume", "{d}"}, R, "state.json"},
        {"state", "", {"update", "{d}", "--memory", "1G"}, R, "state.json"},
        // 100000 levels: nlohmann's parser recursed once per level and boot and stats died of
        // SIGSEGV (exit 139); every JSON text is measured before it is parsed now.
        {"spec", deep("[", "]", 100000), {"boot", "{d}"}, R, "nested deeper than 64"},
        {"spec", deep("{\"a\":", "}", 50000), {"inspect", "{d}"}, R, "nested deeper than 64"},
        {"state", deep("[", "]", 100000), {"stats", "{d}"}, R, "nested deeper than 64"},
        {"state", deep("{\"a\":", "}", 50000), {"exec", "{d}", "--", "true"}, R,
         "nested deeper than 64"},
        {"seccomp", "{", {"exec", "{d}", "--", "true"}, U, "not running"},
        {"landlock", "{", {"exec", "{d}", "--", "true"}, U, "not running"},
    };
    // clang-format on

    const std::size_t cases = rows.size() + damage_rows.size();
    CHECK(cases >= 150);
    // Each row is its own case: no two alike.
    std::set<std::vector<std::string>> distinct;
    for (const auto& r : rows)
        CHECK(distinct.insert(r.args).second);

    auto check_row = [&](const std::vector<std::string>& args, int code, const std::string& text,
                         const std::string& what) {
        const Snapshot before = snapshot(sb, token);
        auto r = sb.volt(expand(args));
        const Snapshot after = snapshot(sb, token);
        std::string line = what;
        for (const auto& a : args)
            line += " [" + a.substr(0, 60) + "]";
        INFO(line);
        INFO("stderr: " << r.err);
        CHECK(r.code == code);
        CHECK(r.out.empty());
        CHECK(lines(r.err) == 1);
        CHECK(r.err.starts_with("volt-run: "));
        CHECK(r.err.find(expand({text}).front()) != std::string::npos);
        const std::string changed = diff(before, after);
        INFO("changed:\n" << changed);
        CHECK(changed.empty());
    };
    for (const auto& row : rows)
        check_row(row.args, row.code, row.text, "");

    for (const auto& row : damage_rows) {
        const std::string what = std::string("damaged ") + row.file;
        const std::string path = std::string(row.file) == "spec"       ? p.spec_file(d)
                                 : std::string(row.file) == "state"    ? p.state_file(d)
                                 : std::string(row.file) == "seccomp"  ? p.seccomp_profile(d)
                                 : std::string(row.file) == "landlock" ? p.landlock_policy(d)
                                                                       : "";
        REQUIRE_FALSE(path.empty());
        auto original = fs::read_file(path);
        REQUIRE(fs::mkdir_p(fs::dirname(path), 0700));
        REQUIRE(fs::write_file_atomic(path, row.content, 0600));
        check_row(row.args, row.code, row.text, what);
        if (original)
            REQUIRE(fs::write_file_atomic(path, *original, 0600));
        else
            REQUIRE(fs::remove_tree(path));
    }
}
