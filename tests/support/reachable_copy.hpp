// Copies of programs in a folder every user can enter, for tests that drop to another user
// (65534) before they exec: the checkout, and so the build folder, may sit in a folder only its
// owner can enter (`mktemp -d`, /root), where the other user's exec fails with ENOENT/EACCES.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <system_error>

namespace testsupport {

// A fresh /tmp/procscope-reachable-XXXXXX (mode 0755) holding 0755 copies of the files added;
// removed with everything in it when the object goes. /tmp, not $TMPDIR: $TMPDIR may itself be
// a private folder.
class ReachableCopy {
public:
    ReachableCopy() {
        struct stat tmp {};
        REQUIRE_MESSAGE((::stat("/tmp", &tmp) == 0 && (tmp.st_mode & S_IXOTH) != 0),
                        "/tmp is not enterable by other users");
        std::string pattern = "/tmp/procscope-reachable-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        std::error_code ec;
        std::filesystem::permissions(dir_, static_cast<std::filesystem::perms>(0755), ec);
        REQUIRE_MESSAGE(!ec, "chmod 0755 " << dir_ << ": " << ec.message());
    }
    ReachableCopy(const ReachableCopy&) = delete;
    ReachableCopy& operator=(const ReachableCopy&) = delete;
    ~ReachableCopy() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Copies `source` in as `name` (by default its own file name), mode 0755; the copy's path.
    std::string add(const std::string& source, std::string name = {}) {
        if (name.empty()) name = std::filesystem::path(source).filename().string();
        std::string copy = dir_ + "/" + name;
        std::error_code ec;
        std::filesystem::copy_file(source, copy, std::filesystem::copy_options::overwrite_existing, ec);
        REQUIRE_MESSAGE(!ec, "copying " << source << " to " << copy << ": " << ec.message());
        std::filesystem::permissions(copy, static_cast<std::filesystem::perms>(0755), ec);
        REQUIRE_MESSAGE(!ec, "chmod 0755 " << copy << ": " << ec.message());
        return copy;
    }

    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

} // namespace testsupport
