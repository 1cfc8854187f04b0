#include "seccomp_eval.hpp"

#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

namespace volt::test {

std::vector<Filter> seccomp_filters_of(pid_t pid) {
    auto fail = [pid](const char* what) {
        throw std::runtime_error(std::string(what) + " of pid " + std::to_string(pid) + ": " +
                                 std::strerror(errno));
    };
    if (::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) < 0)
        fail("PTRACE_SEIZE");
    if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) < 0)
        fail("PTRACE_INTERRUPT");
    int status = 0;
    if (::waitpid(pid, &status, __WALL) < 0)
        fail("waitpid");
    std::vector<Filter> out;
    for (unsigned long i = 0;; ++i) {
        long n =
            ::ptrace(static_cast<__ptrace_request>(PTRACE_SECCOMP_GET_FILTER), pid, i, nullptr);
        if (n < 0) {
            if (errno == ENOENT)
                break;  // past the oldest filter
            fail("PTRACE_SECCOMP_GET_FILTER");
        }
        Filter f(static_cast<std::size_t>(n));
        if (::ptrace(static_cast<__ptrace_request>(PTRACE_SECCOMP_GET_FILTER), pid, i, f.data()) !=
            n)
            fail("PTRACE_SECCOMP_GET_FILTER");
        out.push_back(std::move(f));
    }
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    return out;
}

std::uint32_t run_filter(const Filter& filter, const seccomp_data& data) {
    std::uint32_t a = 0, x = 0;
    std::uint32_t mem[BPF_MEMWORDS] = {};
    auto word_at = [&data](std::uint32_t off) {
        if (off % 4 || off + 4 > sizeof data)
            throw std::runtime_error("seccomp filter: load outside seccomp_data");
        std::uint32_t w;
        std::memcpy(&w, reinterpret_cast<const char*>(&data) + off, 4);
        return w;
    };
    for (std::size_t pc = 0; pc < filter.size(); ++pc) {
        const sock_filter& i = filter[pc];
        std::uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
        switch (BPF_CLASS(i.code)) {
            case BPF_LD:
                if (i.code == (BPF_LD | BPF_W | BPF_ABS))
                    a = word_at(i.k);
                else if (i.code == (BPF_LD | BPF_IMM))
                    a = i.k;
                else if (i.code == (BPF_LD | BPF_MEM) && i.k < BPF_MEMWORDS)
                    a = mem[i.k];
                else
                    throw std::runtime_error("seccomp filter: unknown load");
                break;
            case BPF_LDX:
                if (i.code == (BPF_LDX | BPF_IMM))
                    x = i.k;
                else if (i.code == (BPF_LDX | BPF_MEM) && i.k < BPF_MEMWORDS)
                    x = mem[i.k];
                else
                    throw std::runtime_error("seccomp filter: unknown load into X");
                break;
            case BPF_ST:
            case BPF_STX:
                if (i.k >= BPF_MEMWORDS)
                    throw std::runtime_error("seccomp filter: store outside scratch memory");
                mem[i.k] = BPF_CLASS(i.code) == BPF_ST ? a : x;
                break;
            case BPF_ALU:
                switch (BPF_OP(i.code)) {
                    case BPF_ADD:
                        a += src;
                        break;
                    case BPF_SUB:
                        a -= src;
                        break;
                    case BPF_AND:
                        a &= src;
                        break;
                    case BPF_OR:
                        a |= src;
                        break;
                    case BPF_XOR:
                        a ^= src;
                        break;
                    case BPF_LSH:
                        a = src < 32 ? a << src : 0;
                        break;
                    case BPF_RSH:
                        a = src < 32 ? a >> src : 0;
                        break;
                    case BPF_NEG:
                        a = -a;
                        break;
                    default:
                        throw std::runtime_error("seccomp filter: unknown ALU operation");
                }
                break;
            case BPF_JMP: {
                if (BPF_OP(i.code) == BPF_JA) {
                    pc += i.k;
                    break;
                }
                bool taken;
                switch (BPF_OP(i.code)) {
                    case BPF_JEQ:
                        taken = a == src;
                        break;
                    case BPF_JGT:
                        taken = a > src;
                        break;
                    case BPF_JGE:
                        taken = a >= src;
                        break;
                    case BPF_JSET:
                        taken = (a & src) != 0;
                        break;
                    default:
                        throw std::runtime_error("seccomp filter: unknown jump");
                }
                pc += taken ? i.jt : i.jf;
                break;
            }
            case BPF_RET:
                return BPF_RVAL(i.code) == BPF_A ? a : i.k;
            case BPF_MISC:
                if (BPF_MISCOP(i.code) == BPF_TAX)
                    x = a;
                else
                    a = x;
                break;
            default:
                throw std::runtime_error("seccomp filter: unknown instruction class");
        }
    }
    throw std::runtime_error("seccomp filter: ran off its end");
}

namespace {
// Higher is more restrictive (the kernel's precedence).
int rank(std::uint32_t action) {
    switch (action & SECCOMP_RET_ACTION_FULL) {
        case SECCOMP_RET_KILL_PROCESS:
            return 7;
        case SECCOMP_RET_KILL_THREAD:
            return 6;
        case SECCOMP_RET_TRAP:
            return 5;
        case SECCOMP_RET_ERRNO:
            return 4;
        case SECCOMP_RET_USER_NOTIF:
            return 3;
        case SECCOMP_RET_TRACE:
            return 2;
        case SECCOMP_RET_LOG:
            return 1;
        case SECCOMP_RET_ALLOW:
            return 0;
        default:
            return 7;  // the kernel treats unknown actions as KILL_PROCESS
    }
}
}  // namespace

std::uint32_t run_chain(const std::vector<Filter>& chain, const seccomp_data& data) {
    std::uint32_t verdict = SECCOMP_RET_ALLOW;
    for (const auto& f : chain) {
        std::uint32_t r = run_filter(f, data);
        if (rank(r) > rank(verdict))
            verdict = r;
    }
    return verdict;
}

bool allows(std::uint32_t action) {
    auto a = action & SECCOMP_RET_ACTION_FULL;
    return a == SECCOMP_RET_ALLOW || a == SECCOMP_RET_LOG;
}

}  // namespace volt::test
