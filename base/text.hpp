// Checks of text that becomes a path, a file name or a line in a file systemd reads. Pure.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace volt::text {

// A C0 control character (NUL, newline, carriage return, tab, escape …) or DEL. systemd's
// configuration parser ends a line at '\n', '\r' or NUL, so none of them may reach a setting.
inline bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

inline bool has_control(std::string_view s) {
    for (char c : s)
        if (is_control(c))
            return true;
    return false;
}

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). systemd ignores a
// line of a unit or settings file that is not.
// The length of the well-formed UTF-8 sequence that starts at s[i] (1 for ASCII), or 0 when
// none does (a stray continuation byte, an overlong form, a surrogate, a cut-off sequence).
inline size_t utf8_length(std::string_view s, size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 1;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 2;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n >= s.size())  // the sequence is cut off
        return 0;
    for (size_t k = 1; k <= n; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
}

inline bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_length(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

// Text for a one-line message: control characters, DEL and bytes that are not UTF-8 as C
// escapes (\n, \x1b, \xff), so that a hostile value can neither end the line, move the cursor
// nor garble the terminal.
inline std::string printable(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    auto hex = [&out](unsigned char c) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    };
    for (size_t i = 0; i < s.size();) {
        char c = s[i];
        size_t n = utf8_length(s, i);
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        ++i;
        if (n == 0) {
            hex(static_cast<unsigned char>(c));
            continue;
        }
        if (!is_control(c)) {
            out += c;
            continue;
        }
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                hex(static_cast<unsigned char>(c));
        }
    }
    return out;
}

// Deeper than any file of ours nests. nlohmann parses any depth, but its parser and copying or
// comparing a value recurse once per level: 100000 levels overflow the stack (a SIGSEGV, no error
// to catch), so every JSON text is measured with json_nesting_depth before it is parsed.
inline constexpr std::size_t kMaxJsonNesting = 64;

// The deepest nesting of arrays and objects in a JSON text, strings skipped. Linear, no parse.
inline std::size_t json_nesting_depth(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace volt::text
