// Unit rendering round trip (units/units.hpp): the service unit and the .nspawn file rendered
// from arbitrary names, arguments and values are read back the way systemd reads them, by the
// small readers below. ExecStart= yields exactly the argv it was given; each Environment= word is
// exactly its value; no value adds a line or a directive.
#include <optional>
#include <vector>

#include "tests/fuzz/fuzz.hpp"
#include "units/units.hpp"

using namespace volt;

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// A command line as systemd 252 reads ExecStart=: specifiers first ("%%" is '%'; any other
// specifier would expand, which a rendered line must not hold), then words split at white space
// outside quotes, quotes removed and C escapes decoded (extract_first_word with EXTRACT_UNQUOTE |
// EXTRACT_CUNESCAPE), then "$$" is '$' (a lone '$' would expand a variable). Nullopt for what
// systemd would read otherwise than as plain words: a specifier, a variable, an unknown escape,
// an unterminated quote, a ';' word.
std::optional<std::vector<std::string>> read_exec_line(std::string_view line) {
    std::string s;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] != '%') {
            s += line[i];
            continue;
        }
        if (i + 1 >= line.size() || line[i + 1] != '%')
            return std::nullopt;
        s += '%';
        ++i;
    }
    std::vector<std::string> words;
    std::size_t i = 0;
    while (true) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        if (i == s.size())
            break;
        std::string word;
        char quote = 0;
        bool quoted = false;
        for (; i < s.size(); ++i) {
            char c = s[i];
            if (!quote && (c == ' ' || c == '\t'))
                break;
            if (c == '\\') {
                if (++i == s.size())
                    return std::nullopt;
                switch (char e = s[i]) {
                    case '\\':
                    case '"':
                    case '\'':
                        word += e;
                        break;
                    case 'n':
                        word += '\n';
                        break;
                    case 't':
                        word += '\t';
                        break;
                    case 'x': {
                        int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
                        int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
                        if (hi < 0 || lo < 0)
                            return std::nullopt;
                        word += static_cast<char>(hi * 16 + lo);
                        i += 2;
                        break;
                    }
                    default:
                        return std::nullopt;
                }
                continue;
            }
            if (quote && c == quote) {
                quote = 0;
                continue;
            }
            if (!quote && (c == '"' || c == '\'')) {
                quote = c;
                quoted = true;
                continue;
            }
            word += c;
        }
        if (quote)
            return std::nullopt;
        if (!quoted && word == ";")
            return std::nullopt;
        std::string expanded;
        for (std::size_t k = 0; k < word.size(); ++k) {
            if (word[k] != '$') {
                expanded += word[k];
                continue;
            }
            if (k + 1 >= word.size() || word[k + 1] != '$')
                return std::nullopt;
            expanded += '$';
            ++k;
        }
        words.push_back(std::move(expanded));
    }
    return words;
}

// One word of a .nspawn list setting, as config_parse_strv splits it: white space separates,
// quotes are removed, nothing else is special.
std::vector<std::string> read_nspawn_words(std::string_view s) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (true) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        if (i == s.size())
            break;
        std::string word;
        char quote = 0;
        for (; i < s.size(); ++i) {
            char c = s[i];
            if (!quote && (c == ' ' || c == '\t'))
                break;
            if (quote && c == quote)
                quote = 0;
            else if (!quote && (c == '"' || c == '\''))
                quote = c;
            else
                word += c;
        }
        words.push_back(std::move(word));
    }
    return words;
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    fuzz::check(text.ends_with('\n'), "a rendered file does not end with a newline");
    while (!text.empty()) {
        auto nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return out;
}

std::vector<std::string_view> values_of(const std::vector<std::string_view>& lines,
                                        std::string_view key) {
    std::vector<std::string_view> out;
    for (auto l : lines)
        if (l.starts_with(key))
            out.push_back(l.substr(key.size()));
    return out;
}

void service(const std::vector<std::string>& f) {
    units::ServiceParams p;
    p.container = f.empty() ? "" : f[0];
    p.volt_run = {"/usr/bin/volt-run"};
    for (std::size_t i = 1; i < f.size(); ++i)
        (i % 2 ? p.volt_run : p.device_allow).push_back(f[i]);
    const std::string unit = units::render_service(p);
    const auto lines = lines_of(unit);
    const units::ServiceParams plain{.container = "c", .volt_run = {"/v"}, .device_allow = {}};
    fuzz::check(
        lines.size() == lines_of(units::render_service(plain)).size() + p.device_allow.size(),
        "a value added or removed a line", unit);
    for (auto [key, verb] : {std::pair{"ExecStart=", "boot"}, {"ExecStopPost=", "stop"}}) {
        auto values = values_of(lines, key);
        fuzz::check(values.size() == 1, "not one command line", unit);
        auto argv = read_exec_line(values[0]);
        std::vector<std::string> want = p.volt_run;
        want.push_back(verb);
        want.push_back(p.container);
        fuzz::check(argv && *argv == want, "a command line does not read back as its argv",
                    values[0]);
    }
}

void nspawn(const std::vector<std::string>& f) {
    units::NspawnSettings s;
    s.container = f.empty() ? "" : f[0];
    s.private_users = "pick";
    for (std::size_t i = 1; i < f.size(); ++i) {
        if (i % 3 == 0)
            s.binds.push_back({f[i], i + 1 < f.size() ? f[i + 1] : "/x", (i & 4) != 0});
        else
            s.environment.push_back(f[i]);
    }
    const std::string text = units::render_nspawn(s);
    const auto lines = lines_of(text);
    std::vector<std::string> env;
    for (auto v : values_of(lines, "Environment=")) {
        auto words = read_nspawn_words(v);
        fuzz::check(words.size() == 1, "an Environment= line is not one word", v);
        env.push_back(words[0]);
    }
    std::vector<std::string> want;
    for (const auto& e : s.environment)
        if (!units::quote_nspawn_word(e).empty())
            want.push_back(e);
    fuzz::check(env == want, "Environment= does not read back as given", text);
    std::size_t binds = 0;
    for (auto l : lines) {
        if (l.starts_with("Bind=") || l.starts_with("BindReadOnly=")) {
            auto v = l.substr(l.find('=') + 1);
            auto colon = v.find(':');
            fuzz::check(colon != std::string_view::npos && v.find(':', colon + 1) == v.npos,
                        "a Bind= line nspawn reads otherwise", l);
            ++binds;
        }
    }
    fuzz::check(binds <= s.binds.size(), "more binds than given", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > 8192)
        return 0;
    auto f = fuzz::split_at_nul(fuzz::text_of(data + 1, size - 1));
    fuzz::guard([&] {
        if (data[0] & 1)
            nspawn(f);
        else
            service(f);
        for (const auto& a : f) {
            std::vector<std::string> want{"/v", a};
            auto argv = read_exec_line("/v " + units::quote_exec_arg(a));
            fuzz::check(argv && *argv == want, "quote_exec_arg does not read back", a);
        }
    });
    return 0;
}
