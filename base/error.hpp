// Errors as values: an errno (0 when none applies), a message, and a chain of context that the
// caller prepends as the error travels up ("booting web: creating cgroup: mkdir …: File exists").
// Library code returns these and never prints them; the CLI prints once and maps the kind to an
// exit code.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace volt {

// What the user should learn from the exit code (see README "Exit codes").
enum class ErrorKind {
    runtime,         // 125: something failed while doing what was asked
    usage,           // 2: the request itself is invalid (bad option value, unknown container …)
    cannot_execute,  // 126: the command inside the container exists but cannot be executed
    not_found,       // 127: the command inside the container does not exist
};

class Error {
  public:
    Error(int code, std::string message, ErrorKind kind = ErrorKind::runtime)
        : code_(code), message_(std::move(message)), kind_(kind) {}

    // An error from the current errno; call it right after the failing syscall.
    static Error from_errno(std::string what) { return Error(errno, std::move(what)); }
    static Error usage(std::string message) {
        return Error(0, std::move(message), ErrorKind::usage);
    }

    // Prepends "what: " to the message; the errno and kind are kept.
    Error context(const std::string& what) && {
        message_ = what + ": " + message_;
        return std::move(*this);
    }

    int code() const { return code_; }
    ErrorKind kind() const { return kind_; }
    // The chain without strerror (what travels, e.g. from a child process, to be rebuilt).
    const std::string& message() const { return message_; }
    // The whole chain on one line, ending with strerror(code) when there is an errno.
    std::string describe() const;

  private:
    int code_;
    std::string message_;
    ErrorKind kind_;
};

// A value or an Error. Small on purpose: GCC 12 has no std::expected.
template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    // The value, or `fallback` when there is an error (which is then dropped: for facts where
    // "unknown" reads as the fallback, never for results whose error must be reported).
    T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

  private:
    Error error_{0, {}};
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace volt

#define VOLT_CONCAT_INNER_(a, b) a##b
#define VOLT_CONCAT_(a, b) VOLT_CONCAT_INNER_(a, b)

// Returns the error of a failed Result from the enclosing function, optionally with context.
// Each expansion names its temporary anew (__COUNTER__), so a VOLT_TRY in a lambda inside
// another's argument shadows nothing.
#define VOLT_TRY(expr) VOLT_TRY_IMPL_(VOLT_CONCAT_(volt_try_, __COUNTER__), expr, )
#define VOLT_TRY_CTX(expr, ctx) \
    VOLT_TRY_IMPL_(VOLT_CONCAT_(volt_try_, __COUNTER__), expr, .context(ctx))
#define VOLT_TRY_IMPL_(tmp, expr, add_context)         \
    do {                                               \
        auto tmp = (expr);                             \
        if (!tmp)                                      \
            return std::move(tmp).error() add_context; \
    } while (0)

// Binds the value of a Result, or returns its error from the enclosing function:
//   VOLT_TRY_ASSIGN(auto mounts, cgroup::find_mounts(root));
//   VOLT_TRY_ASSIGN_CTX(UniqueFd fd, sys::open_tree(...), "opening " + path);
// The declaration is a statement of the enclosing scope, so it is not usable as the sole body of
// an unbraced if or loop.
#define VOLT_TRY_ASSIGN(decl, expr) \
    VOLT_TRY_ASSIGN_IMPL_(VOLT_CONCAT_(volt_try_assign_, __COUNTER__), decl, expr, )
#define VOLT_TRY_ASSIGN_CTX(decl, expr, ctx) \
    VOLT_TRY_ASSIGN_IMPL_(VOLT_CONCAT_(volt_try_assign_, __COUNTER__), decl, expr, .context(ctx))
#define VOLT_TRY_ASSIGN_IMPL_(tmp, decl, expr, add_context) \
    auto tmp = (expr);                                      \
    if (!tmp)                                               \
        return std::move(tmp).error() add_context;          \
    decl = std::move(tmp).value()
