// Volumes with the defaults: a user namespace of the container's own and the server Landlock
// policy. A writable volume is writable, its files keep their owners, and a read-only one can be
// read and not written.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

TEST_CASE("volumes work with the default user namespace and Landlock policy", "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string data = sb.dir() / "data", conf = sb.dir() / "conf", raw = sb.dir() / "raw";
    for (const auto& dir : {data, conf, raw})
        REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    REQUIRE(fs::write_file_atomic(data + "/owned", "by 1000\n").ok());
    REQUIRE(::chown((data + "/owned").c_str(), 1000, 1000) == 0);
    REQUIRE(fs::write_file_atomic(conf + "/app.conf", "setting=1\n").ok());
    REQUIRE(fs::write_file_atomic(raw + "/f", "x").ok());
    const std::string name = sb.unique_name("vol");
    test::boot_busybox(sb, name,
                       {"--volume", data + ":/data", "--volume", conf + ":/etc/app:ro", "--volume",
                        raw + ":/raw:noidmap"});
    CHECK(sb.inspect(name)["spec"]["landlock"] == "server");
    test::RunResult r;

    // Id-mapped: the host's uid 1000 is 1000 inside, and what the container's root writes is
    // root's on the host, not an id of the container's range.
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "stat -c %u:%g /data/owned && cat /data/owned && echo new > /data/made && "
                 "mkdir /data/dir && rm /data/dir/../made"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == "1000:1000\nby 1000\n");
    REQUIRE(sb.volt({"exec", name, "--", "sh", "-c", "echo again > /data/kept"}).code == 0);
    struct stat st {};
    REQUIRE(::stat((data + "/kept").c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
    CHECK(fs::read_file(data + "/kept").value_or("") == "again\n");
    // As another user too: the volume's permissions are the host's, mapped.
    r = sb.volt({"exec", "--user", "1000", name, "--", "sh", "-c", "echo mine >> /data/owned"});
    CHECK(r.code == 0);

    // Read-only: readable under the policy, writes refused by the mount.
    r = sb.volt({"exec", name, "--", "cat", "/etc/app/app.conf"});
    CHECK(r.out == "setting=1\n");
    r = sb.volt({"exec", name, "--", "sh", "-c", "echo x > /etc/app/new"});
    CHECK(r.code != 0);
    CHECK(r.err.find("Read-only file system") != std::string::npos);
    CHECK_FALSE(fs::exists(conf + "/new"));

    // noidmap, as asked: the host's root is nobody inside.
    r = sb.volt({"exec", name, "--", "stat", "-c", "%u", "/raw/f"});
    CHECK(r.out == "65534\n");
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
    // The volumes' contents are the user's: delete leaves them.
    CHECK(fs::exists(data + "/owned"));
}
