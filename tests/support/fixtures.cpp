#include "fixtures.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <doctest/doctest.h>
#include <filesystem>
#include <mutex>
#include <unistd.h>

namespace testsupport {

std::string fixtures_dir() {
    if (const char* env = std::getenv("PROCSCOPE_FIXTURES"); env && *env) return env;
    return std::string(PROCSCOPE_SOURCE_DIR) + "/../shared/fixtures";
}

std::optional<std::string> fixture(const std::string& relative) {
    std::string path = fixtures_dir() + "/" + relative;
    if (std::filesystem::exists(path)) return path;
    const char* required = std::getenv("PROCSCOPE_REQUIRE_FIXTURES");
    if (required && std::string(required) == "1")
        FAIL("required fixture missing: " << path << " (PROCSCOPE_REQUIRE_FIXTURES=1)");
    return std::nullopt;
}

namespace {
struct TempDir {
    std::string path;
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
};
} // namespace

std::string temp_dir() {
    static TempDir dir;
    static std::once_flag once;
    std::call_once(once, [] {
        std::string pattern = (std::filesystem::temp_directory_path() / "procscope-test-XXXXXX").string();
        if (char* made = ::mkdtemp(pattern.data())) dir.path = made;
    });
    return dir.path;
}

std::vector<std::byte> read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

bool write_file_bytes(const std::string& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

} // namespace testsupport
