#include "objfile/macho_names.hpp"

#include <array>

#include "objfile/macho_types.hpp"

namespace objfile {

namespace {

struct CommandName {
    std::uint32_t cmd;
    std::string_view name;
};

constexpr std::array command_names{
    CommandName{macho::lc_segment, "LC_SEGMENT"},
    CommandName{macho::lc_symtab, "LC_SYMTAB"},
    CommandName{0x3, "LC_SYMSEG"},
    CommandName{macho::lc_thread, "LC_THREAD"},
    CommandName{macho::lc_unixthread, "LC_UNIXTHREAD"},
    CommandName{0x6, "LC_LOADFVMLIB"},
    CommandName{0x7, "LC_IDFVMLIB"},
    CommandName{0x8, "LC_IDENT"},
    CommandName{0x9, "LC_FVMFILE"},
    CommandName{0xa, "LC_PREPAGE"},
    CommandName{macho::lc_dysymtab, "LC_DYSYMTAB"},
    CommandName{macho::lc_load_dylib, "LC_LOAD_DYLIB"},
    CommandName{macho::lc_id_dylib, "LC_ID_DYLIB"},
    CommandName{macho::lc_load_dylinker, "LC_LOAD_DYLINKER"},
    CommandName{macho::lc_id_dylinker, "LC_ID_DYLINKER"},
    CommandName{0x10, "LC_PREBOUND_DYLIB"},
    CommandName{macho::lc_routines, "LC_ROUTINES"},
    CommandName{macho::lc_sub_framework, "LC_SUB_FRAMEWORK"},
    CommandName{macho::lc_sub_umbrella, "LC_SUB_UMBRELLA"},
    CommandName{macho::lc_sub_client, "LC_SUB_CLIENT"},
    CommandName{macho::lc_sub_library, "LC_SUB_LIBRARY"},
    CommandName{0x16, "LC_TWOLEVEL_HINTS"},
    CommandName{0x17, "LC_PREBIND_CKSUM"},
    CommandName{macho::lc_load_weak_dylib, "LC_LOAD_WEAK_DYLIB"},
    CommandName{macho::lc_segment_64, "LC_SEGMENT_64"},
    CommandName{macho::lc_routines_64, "LC_ROUTINES_64"},
    CommandName{macho::lc_uuid, "LC_UUID"},
    CommandName{macho::lc_rpath, "LC_RPATH"},
    CommandName{macho::lc_code_signature, "LC_CODE_SIGNATURE"},
    CommandName{macho::lc_segment_split_info, "LC_SEGMENT_SPLIT_INFO"},
    CommandName{macho::lc_reexport_dylib, "LC_REEXPORT_DYLIB"},
    CommandName{macho::lc_lazy_load_dylib, "LC_LAZY_LOAD_DYLIB"},
    CommandName{macho::lc_encryption_info, "LC_ENCRYPTION_INFO"},
    CommandName{macho::lc_dyld_info, "LC_DYLD_INFO"},
    CommandName{macho::lc_dyld_info_only, "LC_DYLD_INFO_ONLY"},
    CommandName{macho::lc_load_upward_dylib, "LC_LOAD_UPWARD_DYLIB"},
    CommandName{macho::lc_version_min_macosx, "LC_VERSION_MIN_MACOSX"},
    CommandName{macho::lc_version_min_iphoneos, "LC_VERSION_MIN_IPHONEOS"},
    CommandName{macho::lc_function_starts, "LC_FUNCTION_STARTS"},
    CommandName{macho::lc_dyld_environment, "LC_DYLD_ENVIRONMENT"},
    CommandName{macho::lc_main, "LC_MAIN"},
    CommandName{macho::lc_data_in_code, "LC_DATA_IN_CODE"},
    CommandName{macho::lc_source_version, "LC_SOURCE_VERSION"},
    CommandName{macho::lc_dylib_code_sign_drs, "LC_DYLIB_CODE_SIGN_DRS"},
    CommandName{macho::lc_encryption_info_64, "LC_ENCRYPTION_INFO_64"},
    CommandName{macho::lc_linker_option, "LC_LINKER_OPTION"},
    CommandName{macho::lc_linker_optimization_hint, "LC_LINKER_OPTIMIZATION_HINT"},
    CommandName{macho::lc_version_min_tvos, "LC_VERSION_MIN_TVOS"},
    CommandName{macho::lc_version_min_watchos, "LC_VERSION_MIN_WATCHOS"},
    CommandName{macho::lc_note, "LC_NOTE"},
    CommandName{macho::lc_build_version, "LC_BUILD_VERSION"},
    CommandName{macho::lc_dyld_exports_trie, "LC_DYLD_EXPORTS_TRIE"},
    CommandName{macho::lc_dyld_chained_fixups, "LC_DYLD_CHAINED_FIXUPS"},
    CommandName{macho::lc_fileset_entry, "LC_FILESET_ENTRY"},
    CommandName{macho::lc_atom_info, "LC_ATOM_INFO"},
};

struct ArchName {
    std::int32_t cputype;
    std::int32_t cpusubtype;  // -1: any subtype
    std::string_view name;
};

// Specific subtypes before the catch-all of their CPU type.
constexpr std::array arch_names{
    ArchName{macho::cpu_type_x86_64, macho::cpu_subtype_x86_64_h, "x86_64h"},
    ArchName{macho::cpu_type_x86_64, -1, "x86_64"},
    ArchName{macho::cpu_type_x86, -1, "i386"},
    ArchName{macho::cpu_type_arm64, macho::cpu_subtype_arm64e, "arm64e"},
    ArchName{macho::cpu_type_arm64, -1, "arm64"},
    ArchName{macho::cpu_type_arm64_32, -1, "arm64_32"},
    ArchName{macho::cpu_type_arm, macho::cpu_subtype_arm_v6, "armv6"},
    ArchName{macho::cpu_type_arm, macho::cpu_subtype_arm_v7, "armv7"},
    ArchName{macho::cpu_type_arm, macho::cpu_subtype_arm_v7s, "armv7s"},
    ArchName{macho::cpu_type_arm, macho::cpu_subtype_arm_v7k, "armv7k"},
    ArchName{macho::cpu_type_arm, -1, "arm"},
    ArchName{macho::cpu_type_powerpc64, -1, "ppc64"},
    ArchName{macho::cpu_type_powerpc, -1, "ppc"},
};

} // namespace

std::string_view load_command_name(std::uint32_t cmd) noexcept {
    for (const CommandName& entry : command_names)
        if (entry.cmd == cmd) return entry.name;
    return "LC_??";
}

std::string_view arch_name(std::int32_t cputype, std::int32_t cpusubtype) noexcept {
    const auto subtype = static_cast<std::int32_t>(static_cast<std::uint32_t>(cpusubtype) & ~macho::cpu_subtype_mask);
    for (const ArchName& entry : arch_names)
        if (entry.cputype == cputype && (entry.cpusubtype == -1 || entry.cpusubtype == subtype)) return entry.name;
    return {};
}

std::string_view platform_name(std::uint32_t platform) noexcept {
    switch (platform) {
    case macho::platform_macos: return "macos";
    case macho::platform_ios: return "ios";
    case macho::platform_tvos: return "tvos";
    case macho::platform_watchos: return "watchos";
    case macho::platform_bridgeos: return "bridgeos";
    case macho::platform_maccatalyst: return "macCatalyst";
    case macho::platform_iossimulator: return "iossimulator";
    case macho::platform_tvossimulator: return "tvossimulator";
    case macho::platform_watchossimulator: return "watchossimulator";
    case macho::platform_driverkit: return "driverkit";
    case macho::platform_visionos: return "xros";
    case macho::platform_visionossimulator: return "xrossimulator";
    default: return {};
    }
}

} // namespace objfile
