// Our structs as JSON documents (spec.json, state.json) and back, on nlohmann's macro machinery,
// strictly: reading refuses an unknown enum string, a value of the wrong type and a number out of
// range, tells required keys from those that keep their default, and names the field of every
// error ("network.ports[2].host: expected an integer from 0 to 65535, not 70000").
//
// Why not nlohmann's own macros as they are:
// - NLOHMANN_JSON_SERIALIZE_ENUM reads an unknown string as the table's first enumerator, so
//   "mode": "bogus" would boot a private network without a word. VOLT_JSON_ENUM takes the same
//   table and refuses what is not in it.
// - NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE makes every key required and ..._WITH_DEFAULT every key
//   optional, while an older file lacks exactly the keys added since and must still be refused
//   without a name. Their errors name no key either, unless JSON_DIAGNOSTICS is defined: that
//   adds a parent pointer to every json value and changes basic_json's type (the ABI tag), for
//   a path we would then have to parse back out of exception text.
// - nlohmann converts any number and even a boolean into an integer by static_cast: port 70000
//   would be read as 4464, `true` as 1.
// So VOLT_JSON_FIELDS writes as NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE does (its NLOHMANN_JSON_TO
// per field, so the keys are the member names) and reads each field through read() below.
//
// Exceptions stay inside: parse() and from() return Error values, dump() does not throw.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"

namespace volt::jsonmap {

using nlohmann::json;

// What a mapping throws at a bad value; only parse() and from() catch it, so it never leaves
// this header's callers. The path grows as the error travels out ("host" → "ports[2].host").
class FieldError {
  public:
    explicit FieldError(std::string problem) : problem_(std::move(problem)) {}
    void enter(const std::string& key) {
        path_ = path_.empty() ? key : key + (path_[0] == '[' ? "" : ".") + path_;
    }
    std::string describe() const { return path_.empty() ? problem_ : path_ + ": " + problem_; }

  private:
    std::string path_, problem_;
};

// A value as it may appear in a one-line message: a string quoted and printable, anything else
// as (ASCII-only) JSON, cut short.
inline std::string shown(const json& v) {
    if (v.is_string())
        return std::string("'").append(text::printable(v.get_ref<const std::string&>())) + "'";
    std::string s = v.dump(-1, ' ', true, json::error_handler_t::replace);
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

// What a T is written as, for "expected ..., not ...".
template <class T>
std::string expected() {
    if constexpr (std::is_same_v<T, bool>)
        return "true or false";
    else if constexpr (std::is_integral_v<T>)
        return "an integer from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
               std::to_string(std::numeric_limits<T>::max());
    else if constexpr (std::is_same_v<T, std::string>)
        return "a string";
    else if constexpr (is_optional<T>::value)
        return expected<typename T::value_type>() + " or null";
    else if constexpr (is_vector<T>::value)
        return "an array";
    else
        return "an object";
}

template <class T>
[[noreturn]] void wrong(const json& v) {
    throw FieldError("expected " + expected<T>() + ", not " + shown(v));
}

inline void expect_object(const json& v) {
    if (!v.is_object())
        throw FieldError("expected an object, not " + shown(v));
}

// Reads v into out, or throws FieldError. Enums and structs through their from_json (found by
// argument-dependent lookup), which VOLT_JSON_ENUM and VOLT_JSON_FIELDS define.
template <class T>
void decode(const json& v, T& out) {
    if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean())
            wrong<T>(v);
        out = v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        // Unsigned and signed apart: nlohmann keeps a non-negative number as unsigned.
        if (v.is_number_unsigned() && std::in_range<T>(v.get<std::uint64_t>()))
            out = static_cast<T>(v.get<std::uint64_t>());
        else if (v.is_number_integer() && !v.is_number_unsigned() &&
                 std::in_range<T>(v.get<std::int64_t>()))
            out = static_cast<T>(v.get<std::int64_t>());
        else
            wrong<T>(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string())
            wrong<T>(v);
        out = v.get_ref<const std::string&>();
    } else if constexpr (is_optional<T>::value) {
        if (v.is_null()) {
            out.reset();
        } else {
            using V = typename T::value_type;
            V x{};
            if constexpr (std::is_arithmetic_v<V> || std::is_same_v<V, std::string>) {
                try {
                    decode(v, x);
                } catch (const FieldError&) {
                    wrong<T>(v);  // "... or null"
                }
            } else {
                decode(v, x);
            }
            out = std::move(x);
        }
    } else if constexpr (is_vector<T>::value) {
        if (!v.is_array())
            wrong<T>(v);
        T items;
        for (std::size_t i = 0; i < v.size(); ++i) {
            typename T::value_type x{};
            try {
                decode(v[i], x);
            } catch (FieldError& e) {
                e.enter("[" + std::to_string(i) + "]");
                throw;
            }
            items.push_back(std::move(x));
        }
        out = std::move(items);
    } else {
        from_json(v, out);
    }
}

// The member `key` of an object into out. A missing key is refused when required, and leaves
// out as it is (its default) otherwise.
template <class T>
void read(const json& object, const char* key, T& out, bool required) {
    auto it = object.find(key);
    if (it == object.end()) {
        if (!required)
            return;
        FieldError e("missing");
        e.enter(key);
        throw e;
    }
    try {
        decode(*it, out);
    } catch (FieldError& e) {
        e.enter(key);
        throw;
    }
}

// A parsed document as a T; every error is one printable line naming the field (no errno).
template <class T>
Result<T> from(const json& j) {
    try {
        T t{};
        decode(j, t);
        return t;
    } catch (const FieldError& e) {
        return Error(0, e.describe());
    } catch (const std::exception& e) {  // nlohmann's, or bad_alloc: none may leave
        return Error(0, text::printable(e.what()));
    }
}

// The JSON document in text, or one line saying why it is none (nlohmann's message, printable:
// it can quote the bytes it stopped at).
inline Result<json> parse(const std::string& text) {
    if (text::json_nesting_depth(text) > text::kMaxJsonNesting)
        return Error(0, "not JSON of ours: nested deeper than " +
                            std::to_string(text::kMaxJsonNesting) + " levels");
    try {
        return json::parse(text);
    } catch (const std::exception& e) {
        std::string what = e.what();
        if (what.starts_with("[json.exception.") && what.find("] ") != std::string::npos)
            what.erase(0, what.find("] ") + 2);
        return Error(0, "not JSON: " + text::printable(what));
    }
}

// The document as today's files are written: indented by 2, UTF-8, a final newline. A string
// that is not UTF-8 is written with U+FFFD in place of its bad bytes instead of throwing; the
// commands that take text from users refuse such bytes before it gets here.
inline std::string dump(const json& j) {
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

template <class E, std::size_t N>
const char* name_of(const std::pair<E, const char*> (&table)[N], E value) {
    for (const auto& [e, name] : table)
        if (e == value)
            return name;
    return nullptr;
}

template <class E, std::size_t N>
void enum_to_json(json& j, const std::pair<E, const char*> (&table)[N], E value) {
    // A value outside the table (only a cast makes one) is written as its number, which no
    // reader takes: refused at the next read instead of stored as another enumerator.
    if (const char* name = name_of(table, value))
        j = name;
    else
        j = static_cast<std::underlying_type_t<E>>(value);
}

template <class E, std::size_t N>
void enum_from_json(const json& j, const std::pair<E, const char*> (&table)[N], E& out) {
    std::string names;
    for (const auto& [e, name] : table)
        names += std::string(names.empty() ? "" : ", ") + name;
    if (!j.is_string())
        throw FieldError("expected one of " + names + ", not " + shown(j));
    for (const auto& [e, name] : table)
        if (j.get_ref<const std::string&>() == name) {
            out = e;
            return;
        }
    throw FieldError("unknown value " + shown(j) + "; expected one of " + names);
}

}  // namespace volt::jsonmap

// std::optional as its value or null (nlohmann 3.11.2 has no serializer for it). Reading goes
// through jsonmap::decode.
namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
    template <class BasicJson>
    static void to_json(BasicJson& j, const std::optional<T>& v) {
        if (v)
            j = *v;
        else
            j = nullptr;
    }
};
}  // namespace nlohmann

// The enum E as the strings of a table in NLOHMANN_JSON_SERIALIZE_ENUM's form,
//   VOLT_JSON_ENUM(Mode, {{Mode::a, "a"}, {Mode::b, "b"}})
// in E's namespace, where argument-dependent lookup finds to_json and from_json. Reading a
// string that is not in the table is an error, not the first enumerator.
// volt_json_names(E{}) gives the table to code that needs the names (to_string).
#define VOLT_JSON_ENUM(E, ...)                                              \
    [[maybe_unused]] inline const auto& volt_json_names(E) {                \
        static constexpr std::pair<E, const char*> table[] = __VA_ARGS__;   \
        return table;                                                       \
    }                                                                       \
    [[maybe_unused]] inline void to_json(nlohmann::json& j, const E& e) {   \
        ::volt::jsonmap::enum_to_json(j, volt_json_names(E{}), e);          \
    }                                                                       \
    [[maybe_unused]] inline void from_json(const nlohmann::json& j, E& e) { \
        ::volt::jsonmap::enum_from_json(j, volt_json_names(E{}), e);        \
    }

// The struct Type as an object whose keys are its member names, in Type's namespace:
//   VOLT_JSON_FIELDS(Volume, (host, container, read_only), (kind))
// The first list is required on reading; a member of the second that is missing keeps its
// default (a key added later, absent from older files). Either list may be empty: ().
// [[maybe_unused]]: a struct of a source file's own may be only read or only written.
#define VOLT_JSON_FIELDS(Type, required, optional)                                \
    [[maybe_unused]] inline void to_json(nlohmann::json& nlohmann_json_j,         \
                                         const Type& nlohmann_json_t) {           \
        nlohmann_json_j = nlohmann::json::object();                               \
        VOLT_JSON_EACH_(NLOHMANN_JSON_TO, required)                               \
        VOLT_JSON_EACH_(NLOHMANN_JSON_TO, optional)                               \
    }                                                                             \
    [[maybe_unused]] inline void from_json(const nlohmann::json& nlohmann_json_j, \
                                           Type& nlohmann_json_t) {               \
        ::volt::jsonmap::expect_object(nlohmann_json_j);                          \
        nlohmann_json_t = Type{};                                                 \
        VOLT_JSON_EACH_(VOLT_JSON_READ_REQUIRED_, required)                       \
        VOLT_JSON_EACH_(VOLT_JSON_READ_OPTIONAL_, optional)                       \
    }

#define VOLT_JSON_READ_REQUIRED_(v1) \
    ::volt::jsonmap::read(nlohmann_json_j, #v1, nlohmann_json_t.v1, true);
#define VOLT_JSON_READ_OPTIONAL_(v1) \
    ::volt::jsonmap::read(nlohmann_json_j, #v1, nlohmann_json_t.v1, false);
// macro(field) for each field of a parenthesized list, nothing for (): the list is unwrapped one
// level up so that __VA_OPT__ sees the fields themselves.
#define VOLT_JSON_UNPAREN_(...) __VA_ARGS__
#define VOLT_JSON_EACH_(macro, list) VOLT_JSON_EACH_I_(macro, VOLT_JSON_UNPAREN_ list)
#define VOLT_JSON_EACH_I_(macro, ...) VOLT_JSON_EACH_II_(macro, __VA_ARGS__)
#define VOLT_JSON_EACH_II_(macro, ...) \
    __VA_OPT__(NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(macro, __VA_ARGS__)))
