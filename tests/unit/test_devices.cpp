// The device program is a pure function of the allow-list: it is checked here by running it, in
// a small interpreter of the eBPF instructions it may contain, on (type, major, minor, access)
// requests the kernel would make, not by comparing bytes.
#include <linux/bpf.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>

#include "cgroup/devices.hpp"

using namespace volt;
using namespace volt::cgroup;

namespace {

// Runs prog on a bpf_cgroup_dev_ctx. Throws on anything a device program of ours must not do:
// an unknown opcode, a jump out of the program, a context read out of bounds or unaligned, a
// register read before it was written, more steps than instructions (no loops).
std::uint64_t run(const std::vector<bpf_insn>& prog, const bpf_cgroup_dev_ctx& ctx) {
    std::uint64_t reg[11] = {};
    bool set[11] = {};
    set[1] = true;  // r1 = ctx; modelled as address 0 of ctx's bytes
    auto get = [&](unsigned r) {
        if (r > 10 || !set[r])
            throw std::runtime_error("read of unset register r" + std::to_string(r));
        return reg[r];
    };
    size_t pc = 0;
    for (size_t steps = 0; steps <= prog.size(); ++steps) {
        if (pc >= prog.size())
            throw std::runtime_error("fell off the end of the program");
        const bpf_insn& i = prog[pc++];
        switch (i.code) {
            case BPF_LDX | BPF_MEM | BPF_W: {
                if (i.src_reg != 1 || get(1) != 0)
                    throw std::runtime_error("load from something other than the context");
                if (i.off < 0 || i.off % 4 != 0 || i.off + 4 > int(sizeof ctx))
                    throw std::runtime_error("context read out of bounds");
                std::uint32_t v;
                std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
                reg[i.dst_reg] = v;
                set[i.dst_reg] = true;
                break;
            }
            case BPF_ALU64 | BPF_MOV | BPF_X:
                reg[i.dst_reg] = get(i.src_reg);
                set[i.dst_reg] = true;
                break;
            case BPF_ALU64 | BPF_MOV | BPF_K:
                reg[i.dst_reg] = static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm));
                set[i.dst_reg] = true;
                break;
            case BPF_ALU64 | BPF_AND | BPF_K:
                reg[i.dst_reg] =
                    get(i.dst_reg) & static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm));
                break;
            case BPF_ALU64 | BPF_RSH | BPF_K:
                reg[i.dst_reg] = get(i.dst_reg) >> i.imm;
                break;
            case BPF_JMP | BPF_JNE | BPF_K:
                if (get(i.dst_reg) != static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm)))
                    pc += i.off;
                break;
            case BPF_JMP | BPF_EXIT:
                return get(0);
            default:
                throw std::runtime_error("unexpected opcode " + std::to_string(i.code));
        }
    }
    throw std::runtime_error("more steps than instructions: a loop");
}

// Whether every instruction can be reached: the kernel's verifier refuses unreachable code.
bool all_reachable(const std::vector<bpf_insn>& prog) {
    std::vector<bool> seen(prog.size());
    std::vector<size_t> todo = {0};
    while (!todo.empty()) {
        size_t pc = todo.back();
        todo.pop_back();
        if (pc >= prog.size() || seen[pc])
            continue;
        seen[pc] = true;
        const bpf_insn& i = prog[pc];
        if (i.code == (BPF_JMP | BPF_EXIT))
            continue;
        if (BPF_CLASS(i.code) == BPF_JMP)
            todo.push_back(pc + 1 + static_cast<size_t>(i.off));
        todo.push_back(pc + 1);
    }
    for (bool b : seen)
        if (!b)
            return false;
    return true;
}

enum Type { blk = BPF_DEVCG_DEV_BLOCK, chr = BPF_DEVCG_DEV_CHAR };

bool allows(const std::vector<bpf_insn>& prog, Type type, std::uint32_t major, std::uint32_t minor,
            unsigned access) {
    bpf_cgroup_dev_ctx ctx{(access << 16) | type, major, minor};
    std::uint64_t r = run(prog, ctx);
    REQUIRE((r == 0 || r == 1));
    return r == 1;
}

std::vector<DeviceRule> defaults() {
    std::vector<DeviceRule> rules;
    for (const auto& d : default_devices())
        rules.push_back(d.rule);
    return rules;
}

constexpr unsigned R = kDeviceRead, W = kDeviceWrite, M = kDeviceMknod;

}  // namespace

TEST_CASE("device program: an empty allow-list refuses everything", "[unit]") {
    auto prog = device_program({});
    CHECK_FALSE(allows(prog, chr, 1, 3, R));
    CHECK_FALSE(allows(prog, blk, 7, 0, R | W));
    CHECK_FALSE(allows(prog, chr, 0, 0, M));
}

TEST_CASE("device program: the default list allows nspawn's devices, not the host's disks",
          "[unit]") {
    auto prog = device_program(defaults());
    // The pseudo devices, read, write and mknod.
    for (std::uint32_t minor : {3u, 5u, 7u, 8u, 9u}) {
        CHECK(allows(prog, chr, 1, minor, R));
        CHECK(allows(prog, chr, 1, minor, R | W));
        CHECK(allows(prog, chr, 1, minor, M));
    }
    CHECK(allows(prog, chr, 5, 0, R | W));     // /dev/tty
    CHECK(allows(prog, chr, 5, 2, R | W));     // /dev/ptmx
    CHECK(allows(prog, chr, 10, 200, R | W));  // /dev/net/tun
    CHECK(allows(prog, chr, 10, 229, R | W));  // /dev/fuse
    // Every pts, read and write, but never made with mknod.
    CHECK(allows(prog, chr, 136, 0, R | W));
    CHECK(allows(prog, chr, 136, 4095, R));
    CHECK_FALSE(allows(prog, chr, 136, 0, M));
    CHECK_FALSE(allows(prog, chr, 136, 0, R | M));

    // The host's block devices: loop, sd, nvme (blkext), device mapper. No access at all.
    for (auto [major, minor] : {std::pair{7u, 0u}, {8u, 0u}, {8u, 1u}, {259u, 0u}, {253u, 0u}}) {
        CHECK_FALSE(allows(prog, blk, major, minor, R));
        CHECK_FALSE(allows(prog, blk, major, minor, W));
        CHECK_FALSE(allows(prog, blk, major, minor, M));
    }
    // A block device with a char device's numbers is still refused: the type is checked.
    CHECK_FALSE(allows(prog, blk, 1, 3, R));
    // Char devices not on the list: /dev/mem, /dev/kmem, /dev/port, /dev/kmsg, the console,
    // tty1, loop-control, device-mapper's control, a neighbour of /dev/null.
    for (auto [major, minor] : {std::pair{1u, 1u},
                                {1u, 2u},
                                {1u, 4u},
                                {1u, 11u},
                                {5u, 1u},
                                {4u, 1u},
                                {10u, 237u},
                                {10u, 236u},
                                {1u, 6u}})
        CHECK_FALSE(allows(prog, chr, major, minor, R));
}

TEST_CASE("device program: access is a subset check", "[unit]") {
    auto prog = device_program({{'b', 7, 3, R}});
    CHECK(allows(prog, blk, 7, 3, R));
    CHECK_FALSE(allows(prog, blk, 7, 3, W));
    CHECK_FALSE(allows(prog, blk, 7, 3, R | W));  // O_RDWR asks for both
    CHECK_FALSE(allows(prog, blk, 7, 3, M));
    CHECK_FALSE(allows(prog, blk, 7, 4, R));
    CHECK_FALSE(allows(prog, blk, 8, 3, R));
    CHECK_FALSE(allows(prog, chr, 7, 3, R));

    prog = device_program({{'c', 4, 64, R | W}});
    CHECK(allows(prog, chr, 4, 64, R | W));
    CHECK(allows(prog, chr, 4, 64, W));
    CHECK_FALSE(allows(prog, chr, 4, 64, R | W | M));
}

TEST_CASE("device program: wildcards and type a", "[unit]") {
    auto prog = device_program({{'a', 7, std::nullopt, kDeviceAll}});
    CHECK(allows(prog, blk, 7, 0, R | W | M));
    CHECK(allows(prog, blk, 7, 99, R));
    CHECK(allows(prog, chr, 7, 1, R));
    CHECK_FALSE(allows(prog, blk, 8, 0, R));

    prog = device_program({{'c', std::nullopt, 0, R}});
    CHECK(allows(prog, chr, 42, 0, R));
    CHECK_FALSE(allows(prog, chr, 42, 1, R));
    CHECK_FALSE(allows(prog, blk, 42, 0, R));

    // A rule that grants nothing allows nothing, and later rules still apply.
    prog = device_program({{'a', std::nullopt, std::nullopt, 0}, {'c', 1, 3, R}});
    CHECK_FALSE(allows(prog, blk, 7, 0, R));
    CHECK(allows(prog, chr, 1, 3, R));
}

TEST_CASE("device program: large device numbers are compared exactly", "[unit]") {
    // Majors have 12 bits and minors 20; the immediates are sign-extended 32-bit values.
    auto prog = device_program({{'b', 4095, 1048575, R}});
    CHECK(allows(prog, blk, 4095, 1048575, R));
    CHECK_FALSE(allows(prog, blk, 4095, 1048574, R));
    CHECK_FALSE(allows(prog, blk, 4094, 1048575, R));
}

TEST_CASE("device program: no unreachable instruction, whatever the rules", "[unit]") {
    auto any = DeviceRule{'a', std::nullopt, std::nullopt, kDeviceAll};
    for (const auto& rules : std::vector<std::vector<DeviceRule>>{
             {}, {any}, {{'c', 1, 3, R}, any, {'b', 7, 0, R}}, defaults()}) {
        auto prog = device_program(rules);
        CHECK(all_reachable(prog));
    }
    // A rule for everything allows everything, and ends the program.
    auto prog = device_program({{'c', 1, 3, R}, any, {'b', 7, 0, R}});
    CHECK(allows(prog, blk, 8, 0, R | W | M));
    CHECK(prog.back().code == (BPF_JMP | BPF_EXIT));
}

TEST_CASE("device program: a number no device can have matches nothing", "[unit]") {
    // Not truncated to a real device's number: 0x80000007 is not 7.
    auto prog = device_program({{'b', 0x80000007u, 0, kDeviceAll}, {'c', 1, 0x80000003u, R}});
    CHECK_FALSE(allows(prog, blk, 7, 0, R));
    CHECK_FALSE(allows(prog, chr, 1, 3, R));
    CHECK(all_reachable(prog));
    // An access bit the kernel does not define yet is not granted by a partial rule.
    prog = device_program({{'c', 1, 3, R | W}});
    bpf_cgroup_dev_ctx ctx{((R | 8u) << 16) | chr, 1, 3};
    CHECK(run(prog, ctx) == 0);
}

TEST_CASE("device access letters and v1 lines", "[unit]") {
    CHECK(parse_access("rwm") == kDeviceAll);
    CHECK(parse_access("r") == R);
    CHECK(parse_access("mw") == (M | W));
    CHECK_FALSE(parse_access(""));
    CHECK_FALSE(parse_access("rx"));
    CHECK_FALSE(parse_access("RW"));
    CHECK(access_letters(M | R) == "rm");
    CHECK(access_letters(kDeviceAll) == "rwm");

    CHECK(v1_lines({'c', 1, 3, kDeviceAll}) == std::vector<std::string>{"c 1:3 rwm"});
    CHECK(v1_lines({'c', 136, std::nullopt, R | W}) == std::vector<std::string>{"c 136:* rw"});
    // v1's own "a" would allow everything: a type-a rule is written as c and b.
    CHECK(v1_lines({'a', 7, std::nullopt, R}) == std::vector<std::string>{"c 7:* r", "b 7:* r"});
}

TEST_CASE("device rule of a host node", "[unit]") {
    auto null = rule_for_node("/dev/null", R | W);
    REQUIRE(null.ok());
    CHECK(*null == DeviceRule{'c', 1, 3, R | W});
    auto dir = rule_for_node("/dev", R);
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.error().code() == ENODEV);
    auto missing = rule_for_node("/dev/no-such-device-here", R);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == ENOENT);
}
