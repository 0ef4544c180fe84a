// Accessors for load commands that need no LINKEDIT data: identity, dylibs, entry, platform.
#include <algorithm>
#include <cstdio>

#include "macho_commands.hpp"
#include "objfile/macho_file.hpp"

namespace objfile {

namespace {

std::optional<DylibLinkKind> dylib_link_kind(std::uint32_t cmd) noexcept {
    switch (cmd) {
    case macho::lc_load_dylib: return DylibLinkKind::load;
    case macho::lc_load_weak_dylib: return DylibLinkKind::weak;
    case macho::lc_reexport_dylib: return DylibLinkKind::reexport;
    case macho::lc_lazy_load_dylib: return DylibLinkKind::lazy;
    case macho::lc_load_upward_dylib: return DylibLinkKind::upward;
    default: return std::nullopt;
    }
}

std::uint32_t version_min_platform(std::uint32_t cmd) noexcept {
    switch (cmd) {
    case macho::lc_version_min_macosx: return macho::platform_macos;
    case macho::lc_version_min_iphoneos: return macho::platform_ios;
    case macho::lc_version_min_tvos: return macho::platform_tvos;
    case macho::lc_version_min_watchos: return macho::platform_watchos;
    default: return 0;
    }
}

LinkedDylib linked_dylib(const LoadCommand& command, bool byte_swapped) noexcept {
    const auto raw = macho::command_as<macho::DylibCommand>(command, byte_swapped);
    return LinkedDylib{dylib_link_kind(command.cmd).value_or(DylibLinkKind::load),
                       macho::command_string(command, raw.name.offset), raw.timestamp, raw.current_version,
                       raw.compatibility_version, command.index};
}

} // namespace

std::string format_uuid(const MachOUuid& uuid) {
    char text[37];
    std::snprintf(text, sizeof(text), "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", uuid[0],
                  uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11],
                  uuid[12], uuid[13], uuid[14], uuid[15]);
    return text;
}

std::optional<MachOUuid> MachOFile::uuid() const noexcept {
    const LoadCommand* command = command_at(singletons_.uuid);
    if (!command) return std::nullopt;
    const auto raw = macho::command_as<macho::UuidCommand>(*command, byte_swapped_);
    MachOUuid uuid;
    std::copy(std::begin(raw.uuid), std::end(raw.uuid), uuid.begin());
    return uuid;
}

std::optional<std::string_view> MachOFile::install_name() const noexcept {
    const LoadCommand* command = command_at(singletons_.id_dylib);
    if (!command) return std::nullopt;
    const auto raw = macho::command_as<macho::DylibCommand>(*command, byte_swapped_);
    return macho::command_string(*command, raw.name.offset);
}

std::vector<LinkedDylib> MachOFile::linked_dylibs() const {
    std::vector<LinkedDylib> dylibs;
    dylibs.reserve(dylib_commands_.size());
    for (std::uint32_t index : dylib_commands_) dylibs.push_back(linked_dylib(commands_[index], byte_swapped_));
    return dylibs;
}

std::optional<LinkedDylib> MachOFile::dylib_for_ordinal(std::uint64_t ordinal) const {
    if (ordinal == 0 || ordinal > dylib_commands_.size()) return std::nullopt;
    return linked_dylib(commands_[dylib_commands_[static_cast<std::size_t>(ordinal - 1)]], byte_swapped_);
}

std::vector<std::string_view> MachOFile::rpaths() const {
    std::vector<std::string_view> paths;
    for (const LoadCommand& command : commands_) {
        if (command.cmd != macho::lc_rpath) continue;
        const auto raw = macho::command_as<macho::RpathCommand>(command, byte_swapped_);
        paths.push_back(macho::command_string(command, raw.path.offset));
    }
    return paths;
}

std::optional<EntryPoint> MachOFile::main_entry() const noexcept {
    const LoadCommand* command = command_at(singletons_.main);
    if (!command) return std::nullopt;
    const auto raw = macho::command_as<macho::EntryPointCommand>(*command, byte_swapped_);
    return EntryPoint{raw.entryoff, raw.stacksize};
}

std::optional<BuildVersion> MachOFile::build_version() const noexcept {
    const LoadCommand* command = command_at(singletons_.build_version);
    if (!command) return std::nullopt;
    if (command->cmd == macho::lc_build_version) {
        const auto raw = macho::command_as<macho::BuildVersionCommand>(*command, byte_swapped_);
        return BuildVersion{raw.platform, raw.minos, raw.sdk, command->cmd};
    }
    const auto raw = macho::command_as<macho::VersionMinCommand>(*command, byte_swapped_);
    return BuildVersion{version_min_platform(command->cmd), raw.version, raw.sdk, command->cmd};
}

std::optional<macho::DyldInfoCommand> MachOFile::dyld_info() const noexcept {
    const LoadCommand* command = command_at(singletons_.dyld_info);
    if (!command) return std::nullopt;
    return macho::command_as<macho::DyldInfoCommand>(*command, byte_swapped_);
}

std::optional<macho::LinkeditDataCommand> MachOFile::linkedit_data_command(std::uint32_t cmd) const noexcept {
    for (const LoadCommand& command : commands_) {
        if (command.cmd != cmd) continue;
        // Only commands parse() size-checked as linkedit_data_command may be read as one.
        if (command.size < sizeof(macho::LinkeditDataCommand)) return std::nullopt;
        return macho::command_as<macho::LinkeditDataCommand>(command, byte_swapped_);
    }
    return std::nullopt;
}

} // namespace objfile
