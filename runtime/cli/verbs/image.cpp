// volt-run image import SOURCE NAME | image list [--json] | image rm NAME.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/text.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/verbs/image.hpp"

namespace volt::cli::verbs {
namespace {

using Action = ImageCmd::Action;

// "512", "12.5K", "340.2M", "1.2G": bytes in powers of 1024, as list shows sizes.
std::string size_text(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
    if (bytes < 1024)
        return std::to_string(bytes);
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    for (v /= 1024; v >= 1024 && u + 1 < std::size(kUnits); v /= 1024)
        ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[u]);
    return buf;
}

int run_import(const Invocation& inv, const ImageCmd& c) {
    auto imported = runtime::import_image(inv.paths, c.source, c.name);
    if (!imported)
        return fail(imported.error());
    if (imported->skipped_acls > 0)
        log::warn("image %s: the POSIX ACLs of %llu entr%s were not applied", c.name.c_str(),
                  static_cast<unsigned long long>(imported->skipped_acls),
                  imported->skipped_acls == 1 ? "y" : "ies");
    std::printf("%s: %llu files, %llu directories, %llu device nodes in %s\n", c.name.c_str(),
                static_cast<unsigned long long>(imported->files),
                static_cast<unsigned long long>(imported->directories),
                static_cast<unsigned long long>(imported->devices),
                text::printable(imported->path).c_str());
    return 0;
}

int run_list_images(const Invocation& inv, const ImageCmd& c) {
    auto images = runtime::list_images(inv.paths);
    if (!images)
        return fail(images.error());
    auto or_null = [](const std::string& s) {
        return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
    };
    if (c.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& i : *images)
            arr.push_back({{"name", text::printable(i.name)},
                           {"path", text::printable(i.path)},
                           {"size_bytes", i.bytes ? nlohmann::json(*i.bytes) : nullptr},
                           {"os", or_null(text::printable(i.os))},
                           {"created", or_null(i.created)},
                           {"source", or_null(i.source)}});
        return print_json(arr);
    }
    std::printf("%-24s %-8s %-20s %s\n", "NAME", "SIZE", "CREATED", "OS");
    for (const auto& i : *images)
        std::printf("%-24s %-8s %-20s %s\n", text::printable(i.name).c_str(),
                    i.bytes ? size_text(*i.bytes).c_str() : "?",
                    i.created.empty() ? "-" : i.created.c_str(),
                    i.os.empty() ? "-" : text::printable(i.os).c_str());
    return 0;
}

}  // namespace

void add_image(CLI::App& sub, ImageCmd& c) {
    sub.require_subcommand(1, 1);
    auto* import = sub.add_subcommand(
        "import", "Make image NAME from a tar archive (plain, .gz, .xz, .zst) or a directory");
    import->add_option("source", c.source, "The archive file or directory")->required();
    import->add_option("name", c.name, "The image's name (ROOT/images/NAME)")->required();
    import->callback([&c] { c.action = Action::import;
});
auto* list = sub.add_subcommand("list", "List images: name, size, creation time, OS");
list->alias("ls");
list->add_flag("--json", c.json, "Print JSON");
list->callback([&c] { c.action = Action::list; });
auto* rm = sub.add_subcommand("rm", "Remove an image (containers made from it keep working)");
rm->add_option("name", c.name, "Image name")->required();
rm->callback([&c] { c.action = Action::remove; });
// A subcommand inherits its parent's footer, which is volt-run's exit codes here.
for (CLI::App* s : {import, list, rm})
    s->footer("");
}  // namespace volt::cli::verbs

int run_image(const Invocation& inv, const ImageCmd& c) {
    switch (c.action) {
        case Action::import:
            return run_import(inv, c);
        case Action::list:
            return run_list_images(inv, c);
        case Action::remove: {
            auto users = runtime::remove_image(inv.paths, c.name);
            if (!users)
                return fail(users.error());
            std::string listed;
            for (const auto& u : *users)
                listed.append(listed.empty() ? "" : ", ").append(u);
            if (!users->empty())
                std::printf("removed image %s; created from it, %s keep%s working on %s own copy\n",
                            c.name.c_str(), listed.c_str(), users->size() == 1 ? "s" : "",
                            users->size() == 1 ? "its" : "their");
            return 0;
        }
        case Action::none:
            break;
    }
    return fail(Error::usage("image: a subcommand is required (import, list or rm)"));
}

}  // namespace volt::cli::verbs
