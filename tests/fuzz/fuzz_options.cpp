// Option values (runtime/plan/options.hpp, build_spec): the first byte picks the parser, the rest
// is its input (for build_spec, fields separated by NUL bytes). No exception escapes; an error is
// one line; what one parser returns it takes back unchanged (a port's text, a normalized cpuset);
// a spec build_spec accepts reads back equal from its spec.json.
#include <vector>

#include "runtime/plan/options.hpp"
#include "runtime/plan/spec.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

namespace {

template <class T>
bool ok(const Result<T>& r) {
    if (!r)
        fuzz::check_one_line(r.error());
    return static_cast<bool>(r);
}

// Fields in order: name, network, then pairs of (kind, value): 'p' port, 'd' dns, 'e' env,
// 'v' volume, 'D' device, 'm' memory, 'c' cpus, 's' cpuset, 'i' pids-max.
void build(std::string_view input) {
    auto f = fuzz::split_at_nul(input);
    runtime::CreateRequest r;
    r.name = f.size() > 0 ? f[0] : "";
    if (f.size() > 1)
        r.network = f[1];
    for (std::size_t i = 2; i + 1 < f.size(); i += 2) {
        const std::string& v = f[i + 1];
        switch (f[i].empty() ? 0 : f[i][0]) {
            case 'p':
                r.ports.push_back(v);
                break;
            case 'd':
                r.dns.push_back(v);
                break;
            case 'e':
                r.env.push_back(v);
                break;
            case 'v':
                r.volumes.push_back(v);
                break;
            case 'D':
                r.devices.push_back(v);
                break;
            case 'm':
                r.memory = v;
                break;
            case 'c':
                r.cpus = v;
                break;
            case 's':
                r.cpuset = v;
                break;
            case 'i':
                r.pids_max = v;
                break;
            default:
                break;
        }
    }
    auto spec = runtime::build_spec(r);
    if (!ok(spec))
        return;
    const std::string text = runtime::to_json(*spec);
    auto back = runtime::spec_from_json(text);
    fuzz::check(back && *back == *spec, "an accepted spec does not read back equal", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > 4096)
        return 0;
    const std::uint8_t which = data[0];
    const std::string_view in = fuzz::text_of(data + 1, size - 1);
    fuzz::guard([&] {
        using namespace runtime;
        switch (which % 14) {
            case 0:
                if (auto n = parse_size("--memory", in); ok(n))
                    fuzz::check(*n > 0, "a size of zero");
                break;
            case 1:
                if (auto n = parse_cpus("--cpus", in); ok(n))
                    fuzz::check(*n >= 10 && *n <= 1024000, "cpus out of range");
                break;
            case 2:
                if (auto s = parse_cpuset("--cpuset", in); ok(s)) {
                    auto again = parse_cpuset("--cpuset", *s);
                    fuzz::check(again && *again == *s, "a normalized cpuset changes", *s);
                }
                break;
            case 3:
                if (auto n = parse_uint("--pids-max", in, 1, 4194304); ok(n))
                    fuzz::check(*n >= 1 && *n <= 4194304, "uint out of range");
                break;
            case 4:
                if (auto p = parse_port(in); ok(p)) {
                    auto again = parse_port(to_string(*p));
                    fuzz::check(again && *again == *p, "a port does not read back equal",
                                to_string(*p));
                }
                break;
            case 5:
                if (auto e = parse_env("--env", in); ok(e))
                    fuzz::check(e->find('=') != std::string::npos && check_text("--env", *e).ok(),
                                "an env value without '=' or with control characters", *e);
                break;
            case 6:
                if (auto v = parse_volume(in, (in.size() & 1) != 0); ok(v)) {
                    fuzz::check(check_volume_target("--volume", in, v->container).ok(),
                                "an accepted volume's target is refused", v->container);
                    fuzz::check(check_volume_path("--volume", in, "host", v->host).ok(),
                                "an accepted volume's host path is refused", v->host);
                }
                break;
            case 7:
                if (auto d = parse_device(in); ok(d))
                    fuzz::check(!d->access.empty() &&
                                    d->access.find_first_not_of("rwm") == std::string::npos,
                                "device access not of rwm", d->access);
                break;
            case 8:
                if (validate_new_name(in).ok())
                    fuzz::check(validate_name(in).ok(), "a new name that is not a name",
                                std::string(in));
                else
                    fuzz::check_one_line(validate_new_name(in).error());
                break;
            case 9:
                (void)ok(validate_name(in));
                break;
            case 10:
                (void)ok(parse_since(in, 1'790'000'000'000'000ULL));
                break;
            case 11:
                (void)ok(validate_ifname("--network", in));
                break;
            case 12:
                (void)ok(check_text("--image", in));
                break;
            case 13:
                build(in);
                break;
        }
    });
    return 0;
}
