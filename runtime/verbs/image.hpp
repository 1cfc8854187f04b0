// Images: the directories under ROOT/images that `create --image NAME` copies a container from.
// import makes one from a tarball or a directory, list shows them, rm removes one.
//
// ROOT/images holds NAME (an image) and volt-run's own entries, which start with '.' like no
// image name does (validate_image_name): .NAME.partial (an import in progress, or what a killed
// one left), .NAME.json (when the import finished, and from what), .NAME.lock (held by an import
// of NAME from start to end), .NAME.removing (an rm's, until it is done) and .lock: exclusive
// while an import claims its name or renames its result into place and during rm, shared while
// an import works and while create copies an image, so that no image changes under a copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"

namespace volt::runtime {

struct ImportResult {
    std::string path;  // ROOT/images/NAME
    std::uint64_t files = 0;
    std::uint64_t directories = 0;
    std::uint64_t devices = 0;
    std::uint64_t skipped_acls = 0;  // entries whose POSIX ACLs an archive held and were dropped
};

// Imports `source` as image `name`: a tar archive (plain, gzip, xz, zstd; rootfs::extract_archive
// says what is kept and refused) or a directory (copied like create copies an image, but with
// its device nodes). Staged in ROOT/images/.NAME.partial and renamed into place once complete,
// so that NAME never names half an image; on any failure, SIGINT, SIGTERM or SIGHUP included,
// the staging directory is removed again. An existing NAME is refused (rm it first). A usage
// error for a bad name or source, or a damaged archive. Needs root for archives with foreign
// owners or device nodes.
Result<ImportResult> import_image(const Paths& paths, const std::string& source,
                                  const std::string& name);

struct ImageInfo {
    std::string name;
    std::string path;
    std::optional<std::uint64_t> bytes;  // disk use (st_blocks); nullopt when the walk failed
    std::string os;                      // os-release PRETTY_NAME (else NAME); may be empty
    std::string created;                 // when import finished (RFC 3339, UTC); empty if unknown
    std::string source;                  // what it was imported from; empty if unknown
};

// A shared hold on ROOT/images/.lock for create's copy of `image` (an absolute path) when it
// lies below ROOT/images: rm and an import's rename wait until the fd is closed. An invalid fd
// for an image elsewhere.
Result<UniqueFd> hold_image(const Paths& paths, const std::string& image);

// create's and bench's --image: a path (anything with a '/', or an existing directory) made
// absolute, or a bare image name as ROOT/images/NAME. A usage error naming the value otherwise.
Result<std::string> resolve_image(const Paths& paths, const std::string& image);

// Every directory in ROOT/images (imported or put there by hand), by name; none when there is
// no ROOT/images.
Result<std::vector<ImageInfo>> list_images(const Paths& paths);

// The names of the containers whose spec records this image (ROOT/images/NAME) as theirs.
Result<std::vector<std::string>> containers_using_image(const Paths& paths,
                                                        const std::string& name);

// Removes image `name` (never following a symlink in it); returns the containers created from
// it (containers_using_image), which keep working: create copied the image into each. Refused (a
// usage error naming them) while a --rootfs overlay container uses it as its lower layer (see
// is_lower_layer). A usage error when there is no such image.
Result<std::vector<std::string>> remove_image(const Paths& paths, const std::string& name);

// Whether a container shares its image's files (--rootfs overlay): then rm refuses the image
// while the container exists. A copy is independent of its image.
inline bool is_lower_layer(RootfsMode mode) {
    return mode == RootfsMode::overlay;
}

// The value of PRETTY_NAME (else NAME) in an os-release text, unquoted as os-release(5) says;
// empty if neither is there.
std::string os_release_name(std::string_view text);

}  // namespace volt::runtime
