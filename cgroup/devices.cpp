#include "cgroup/devices.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "base/fs.hpp"
#include "base/syscalls.hpp"

namespace volt::cgroup {
namespace {

// The instructions device_program emits; the unit tests' interpreter knows exactly these.
bpf_insn ldx_w(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return {BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0};
}
bpf_insn alu64_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
    return {static_cast<std::uint8_t>(BPF_ALU64 | op | BPF_K), dst, 0, 0, imm};
}
bpf_insn mov64_reg(std::uint8_t dst, std::uint8_t src) {
    return {BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0};
}
bpf_insn jne_imm(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return {BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm};
}
bpf_insn exit_insn() {
    return {BPF_JMP | BPF_EXIT, 0, 0, 0, 0};
}

// The registers the prologue fills from struct bpf_cgroup_dev_ctx (r1).
constexpr std::uint8_t kType = BPF_REG_2;    // BPF_DEVCG_DEV_*
constexpr std::uint8_t kAccess = BPF_REG_3;  // BPF_DEVCG_ACC_* bits requested
constexpr std::uint8_t kMajor = BPF_REG_4;
constexpr std::uint8_t kMinor = BPF_REG_5;

std::uint64_t ptr(const void* p) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

}  // namespace

const std::vector<DefaultDevice>& default_devices() {
    auto c = [](std::uint32_t major, std::optional<std::uint32_t> minor, unsigned access) {
        return DeviceRule{'c', major, minor, access};
    };
    static const std::vector<DefaultDevice> list = {
        {c(1, 3, kDeviceAll), "/dev/null"},
        {c(1, 5, kDeviceAll), "/dev/zero"},
        {c(1, 7, kDeviceAll), "/dev/full"},
        {c(1, 8, kDeviceAll), "/dev/random"},
        {c(1, 9, kDeviceAll), "/dev/urandom"},
        {c(5, 0, kDeviceAll), "/dev/tty"},
        {c(5, 2, kDeviceAll), "/dev/ptmx"},
        // The guest's own devpts instance: its terminals, and the pty nspawn binds on
        // /dev/console. Never mknod: a pts node is made by devpts only.
        {c(136, std::nullopt, kDeviceRead | kDeviceWrite), "char-pts"},
        {c(10, 200, kDeviceAll), "/dev/net/tun"},
        {c(10, 229, kDeviceAll), "/dev/fuse"},
    };
    return list;
}

std::optional<unsigned> parse_access(std::string_view letters) {
    if (letters.empty())
        return std::nullopt;
    unsigned access = 0;
    for (char l : letters) {
        unsigned bit = l == 'r'   ? kDeviceRead
                       : l == 'w' ? kDeviceWrite
                       : l == 'm' ? kDeviceMknod
                                  : 0;
        if (bit == 0)
            return std::nullopt;
        access |= bit;
    }
    return access;
}

std::string access_letters(unsigned access) {
    std::string out;
    if (access & kDeviceRead)
        out += 'r';
    if (access & kDeviceWrite)
        out += 'w';
    if (access & kDeviceMknod)
        out += 'm';
    return out;
}

Result<DeviceRule> rule_for_node(const std::string& path, unsigned access) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0)
        return Error::from_errno(path);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return Error(ENODEV, path + " is not a character or block device");
    return DeviceRule{S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev), minor(st.st_rdev),
                      access};
}

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
    // access_type is (access << 16) | type; the other two fields are plain numbers.
    std::vector<bpf_insn> prog = {
        ldx_w(kType, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        mov64_reg(kAccess, kType),
        alu64_imm(BPF_AND, kType, 0xffff),
        alu64_imm(BPF_RSH, kAccess, 16),
        ldx_w(kMajor, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, major)),
        ldx_w(kMinor, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    for (const auto& rule : rules) {
        if ((rule.access & kDeviceAll) == 0)
            continue;  // allows nothing
        // The immediates are signed 32-bit, sign-extended; the kernel's majors have 12 bits and
        // minors 20. A number beyond that names no device: the rule can match nothing.
        constexpr std::uint32_t kMaxImm = 0x7fffffff;
        if ((rule.major && *rule.major > kMaxImm) || (rule.minor && *rule.minor > kMaxImm))
            continue;
        // Each test jumps past the rule's end when it fails; offsets are fixed up below, once
        // the block's length is known.
        std::vector<bpf_insn> block;
        std::vector<size_t> jumps;
        auto test = [&](std::uint8_t reg, std::int32_t value) {
            jumps.push_back(block.size());
            block.push_back(jne_imm(reg, value, 0));
        };
        if (rule.type != 'a')
            test(kType, rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
        if ((rule.access & kDeviceAll) != kDeviceAll) {
            // Every bit requested must be one the rule grants: requested & ~granted == 0 (a bit
            // the kernel may add one day is not granted either).
            block.push_back(mov64_reg(BPF_REG_0, kAccess));
            block.push_back(alu64_imm(BPF_AND, BPF_REG_0, static_cast<std::int32_t>(~rule.access)));
            test(BPF_REG_0, 0);
        }
        if (rule.major)
            test(kMajor, static_cast<std::int32_t>(*rule.major));
        if (rule.minor)
            test(kMinor, static_cast<std::int32_t>(*rule.minor));
        block.push_back(alu64_imm(BPF_MOV, BPF_REG_0, 1));
        block.push_back(exit_insn());
        for (size_t j : jumps)
            block[j].off = static_cast<std::int16_t>(block.size() - j - 1);
        prog.insert(prog.end(), block.begin(), block.end());
        // A rule without a test allows everything; the verifier refuses the unreachable rest.
        if (jumps.empty())
            return prog;
    }
    prog.push_back(alu64_imm(BPF_MOV, BPF_REG_0, 0));
    prog.push_back(exit_insn());
    return prog;
}

std::vector<std::string> v1_lines(const DeviceRule& rule) {
    auto num = [](const std::optional<std::uint32_t>& n) {
        return n ? std::to_string(*n) : std::string("*");
    };
    std::string rest = " ";
    rest.append(num(rule.major)).append(":").append(num(rule.minor)).append(" ");
    rest.append(access_letters(rule.access));
    if (rule.type == 'a')
        return {"c" + rest, "b" + rest};
    return {std::string(1, rule.type) + rest};
}

Result<std::vector<std::uint32_t>> attached_device_programs(int cgroup_fd) {
    std::vector<std::uint32_t> ids(64);
    bpf_attr q{};
    q.query.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    q.query.attach_type = BPF_CGROUP_DEVICE;
    q.query.prog_ids = ptr(ids.data());
    q.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    VOLT_TRY(sys::bpf(BPF_PROG_QUERY, q, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)"));
    ids.resize(q.query.prog_cnt);
    return ids;
}

Status attach_device_program(int cgroup_fd, const std::vector<DeviceRule>& rules) {
    const std::vector<bpf_insn> prog = device_program(rules);
    static const char license[] = "GPL";  // not required by this program type; harmless
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = ptr(prog.data());
    load.insn_cnt = static_cast<std::uint32_t>(prog.size());
    load.license = ptr(license);
    auto fd = sys::bpf(BPF_PROG_LOAD, load, "bpf(BPF_PROG_LOAD) of the device program");
    if (!fd && (fd.error().code() == EINVAL || fd.error().code() == EACCES)) {
        // The verifier refused it: load again with its log, for the one line that says why.
        std::vector<char> log(64 * 1024);
        load.log_level = 1;
        load.log_buf = ptr(log.data());
        load.log_size = static_cast<std::uint32_t>(log.size());
        (void)sys::bpf(BPF_PROG_LOAD, load, "bpf(BPF_PROG_LOAD)");
        // The verifier's reason is its last line before the "processed N insns" summary.
        std::string reason;
        for (auto line : fs::split(log.data(), '\n'))
            if (!line.empty() && !line.starts_with("processed "))
                reason = line;
        return Error(fd.error().code(),
                     "bpf(BPF_PROG_LOAD) of the device program, verifier: " + reason);
    }
    if (!fd)
        return std::move(fd).error();
    UniqueFd prog_fd(*fd);

    // Ids of what an earlier run left attached here, detached once ours is in: no moment
    // without a policy.
    VOLT_TRY_ASSIGN(std::vector<std::uint32_t> old, attached_device_programs(cgroup_fd));
    bpf_attr attach{};
    attach.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attach.attach_bpf_fd = static_cast<std::uint32_t>(prog_fd.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    VOLT_TRY(sys::bpf(BPF_PROG_ATTACH, attach, "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)"));
    for (std::uint32_t id : old) {
        bpf_attr get{};
        get.prog_id = id;
        VOLT_TRY_ASSIGN(int old_fd,
                        sys::bpf(BPF_PROG_GET_FD_BY_ID, get, "bpf(BPF_PROG_GET_FD_BY_ID)"));
        UniqueFd owner(old_fd);
        bpf_attr detach{};
        detach.target_fd = static_cast<std::uint32_t>(cgroup_fd);
        detach.attach_bpf_fd = static_cast<std::uint32_t>(owner.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        VOLT_TRY(sys::bpf(BPF_PROG_DETACH, detach, "bpf(BPF_PROG_DETACH) of an earlier program"));
    }
    return {};
}

Status write_v1_policy(const std::string& path, const std::vector<DeviceRule>& rules) {
    VOLT_TRY(fs::mkdir_p(path));
    VOLT_TRY_ASSIGN(UniqueFd dir, fs::open_dir(path));
    VOLT_TRY_CTX(fs::write_existing(dir.get(), "devices.deny", "a"), path + "/devices.deny");
    for (const auto& rule : rules)
        for (const auto& line : v1_lines(rule))
            VOLT_TRY_CTX(fs::write_existing(dir.get(), "devices.allow", line),
                         path + "/devices.allow: " + line);
    return {};
}

}  // namespace volt::cgroup
