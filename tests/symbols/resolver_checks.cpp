#include "resolver_checks.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

#include "objfile/elf_file.hpp"
#include "objfile/elf_notes.hpp"
#include "procscope/mapped_file.hpp"

namespace symtest {

std::string canonical(const std::string& path) { return std::filesystem::canonical(path).string(); }

symbols::ResolvedSymbol check_find(const symbols::Resolver& resolver, const KnownChild& child, const std::string& name,
                                   const std::string& image_path, std::string_view image_filter) {
    auto found = resolver.find(name, image_filter);
    INFO("symbol " << name);
    REQUIRE_MESSAGE(found, (found ? "" : found.error().message));
    CHECK(found->address == child.address(name));
    REQUIRE(found->image < resolver.images().size());
    CHECK(resolver.images()[found->image].path == canonical(image_path));
    return *found;
}

std::string file_bytes(const std::string& path, std::uint64_t offset, std::size_t size) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::string bytes(size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(size));
    return bytes;
}

std::string build_id_of(const std::string& path) {
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped);
    auto elf = objfile::ElfFile::parse(mapped->bytes(), path);
    REQUIRE(elf);
    auto id = elf->build_id();
    REQUIRE_MESSAGE(id, path << " has no build-id");
    return objfile::to_hex(*id);
}

void install_by_build_id(const std::string& debug_dir, const std::string& binary, const std::string& debug_file) {
    std::string hex = build_id_of(binary);
    std::filesystem::path target = std::filesystem::path(debug_dir) / ".build-id" / hex.substr(0, 2) / (hex.substr(2) + ".debug");
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy_file(debug_file, target, std::filesystem::copy_options::overwrite_existing);
}

OpenElf open_elf(const std::string& path) {
    auto mapped = procscope::MappedFile::open(path);
    REQUIRE(mapped);
    auto elf = objfile::ElfFile::parse(mapped->bytes(), path);
    REQUIRE(elf);
    return {std::move(*mapped), std::move(*elf)};
}

} // namespace symtest
