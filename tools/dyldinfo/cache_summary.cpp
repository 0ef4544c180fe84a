// The default view of a cache: what its header says and what files it is made of.
#include "cache_views.hpp"
#include "dyldcache/format.hpp"
#include "objfile/macho_names.hpp"

namespace dyldinfo {

using dyldcache::CacheFile;
using dyldcache::CacheFileRole;

namespace {

std::string cache_type_name(const dyldcache::CacheHeader& header) {
    auto type = header.cache_type();
    if (!type) return "";
    switch (*type) {
    case dyldcache::format::cache_type_development: return "development";
    case dyldcache::format::cache_type_production: return "production";
    case dyldcache::format::cache_type_universal: {
        auto sub = header.cache_sub_type();
        if (!sub) return "universal";
        return *sub == 0 ? "universal (development)" : "universal (production)";
    }
    default: return "unknown (" + std::to_string(*type) + ")";
    }
}

std::string_view role_name(CacheFileRole role) {
    switch (role) {
    case CacheFileRole::main: return "main";
    case CacheFileRole::subcache: return "subcache";
    case CacheFileRole::symbols: return "symbols";
    }
    return "?";
}

}  // namespace

void write_cache_summary(Report& report, const dyldcache::SharedCache& cache) {
    const dyldcache::CacheHeader& header = cache.header();
    const auto uuid = header.uuid();
    const auto platform = header.platform();
    const auto os_version = header.os_version();
    auto locals = cache.local_symbols_info();
    std::size_t slide_mappings = 0;
    std::string slide_versions;
    for (std::uint32_t i = 0; i < cache.address_space().mappings().size(); ++i) {
        auto info = cache.slide_info(i);
        if (!info || !*info) continue;
        ++slide_mappings;
        const std::string version = "v" + std::to_string((*info)->version());
        if (slide_versions.find(version) == std::string::npos)
            slide_versions += (slide_versions.empty() ? "" : ", ") + version;
    }
    if (report.opts.json) {
        auto& json = report.json;
        json.key("header");
        json.begin_object();
        json.field("magic", header.magic());
        json.field("arch", header.arch());
        json.field_hex("header_size", header.mapping_offset());
        if (uuid) json.field("uuid", dyldcache::format_uuid(*uuid));
        else {
            json.key("uuid");
            json.null();
        }
        json.field("cache_type", cache_type_name(header));
        if (platform) {
            json.field_number("platform", *platform);
            json.field("platform_name", objfile::platform_name(*platform));
        }
        if (os_version) json.field("os_version", format_version(*os_version));
        report.json_addr("base_address", cache.base_address());
        json.field_number("mapping_count", cache.address_space().mappings().size());
        json.field_number("image_count", cache.images().size());
        json.field_bool("new_image_table", header.uses_new_image_table());
        if (auto size = header.shared_region_size()) json.field_number("shared_region_size", *size);
        if (auto max_slide = header.max_slide()) json.field_number("max_slide", *max_slide);
        json.key("files");
        json.begin_array();
        for (const CacheFile& file : cache.files()) {
            json.begin_object();
            json.field("path", file.path);
            json.field("role", role_name(file.role));
            json.field("suffix", file.suffix);
            if (auto file_uuid = file.header.uuid()) json.field("uuid", dyldcache::format_uuid(*file_uuid));
            json.field_number("size", file.bytes().size());
            json.field_number("mappings", file.role == CacheFileRole::symbols ? 0 : file.mappings.size());
            json.end_object();
        }
        json.end_array();
        if (locals && *locals) {
            json.key("local_symbols");
            json.begin_object();
            json.field("file", (*locals)->file_path());
            json.field_number("entries", (*locals)->entries().size());
            json.field_number("symbols", (*locals)->nlist_count());
            json.field_bool("entries_64bit", (*locals)->uses_64bit_entries());
            json.end_object();
        }
        json.key("slide_info_versions");
        json.begin_array();
        for (std::uint32_t i = 0; i < cache.address_space().mappings().size(); ++i) {
            auto info = cache.slide_info(i);
            if (info && *info) json.number((*info)->version());
        }
        json.end_array();
        json.key("warnings");
        json.begin_array();
        for (const std::string& warning : cache.warnings()) json.string(warning);
        if (!locals) json.string(locals.error().message);
        json.end_array();
        json.end_object();
        return;
    }
    report.begin_text_view("");
    std::string& text = report.text;
    auto line = [&](std::string_view label, const std::string& value) {
        text += std::string(label);
        text.append(label.size() < 16 ? 16 - label.size() : 1, ' ');
        text += value + "\n";
    };
    line("File:", procscope::escape_bytes(cache.path()));
    line("Magic:", std::string(header.magic()) + " (header " + procscope::to_hex(header.mapping_offset()) + " bytes)");
    line("UUID:", uuid ? dyldcache::format_uuid(*uuid) : "none (header predates it)");
    if (auto type = cache_type_name(header); !type.empty()) line("Cache type:", type);
    if (platform) {
        std::string name(objfile::platform_name(*platform));
        line("Platform:", (name.empty() ? std::to_string(*platform) : name) +
                              (os_version && *os_version ? " " + format_version(*os_version) : ""));
    }
    line("Base address:", report.addr(cache.base_address()) +
                              (report.slide ? " (slide " + procscope::to_hex(report.slide) + ")" : ""));
    line("Mappings:", std::to_string(cache.address_space().mappings().size()));
    line("Images:", std::to_string(cache.images().size()) +
                        (header.uses_new_image_table() ? "" : " (old image table location)"));
    for (const CacheFile& file : cache.files()) {
        if (file.role == CacheFileRole::main) continue;
        const auto file_uuid = file.header.uuid();
        line(file.role == CacheFileRole::subcache ? "Subcache:" : "Symbols file:",
             procscope::escape_bytes(file.path) + (file_uuid ? "  " + dyldcache::format_uuid(*file_uuid) : ""));
    }
    if (!locals) line("Local symbols:", "unreadable: " + locals.error().message);
    else if (*locals)
        line("Local symbols:", std::to_string((*locals)->nlist_count()) + " for " +
                                   std::to_string((*locals)->entries().size()) + " images, in " +
                                   procscope::escape_bytes((*locals)->file_path()));
    else line("Local symbols:", "none");
    line("Slide info:", slide_mappings ? slide_versions + " in " + std::to_string(slide_mappings) + " mapping" +
                                             (slide_mappings == 1 ? "" : "s")
                                       : "none");
    for (const std::string& warning : cache.warnings()) line("Warning:", warning);
}

}  // namespace dyldinfo
