// dyldinfo: what is inside a dyld shared cache or a Mach-O file (docs/dyldinfo.md).
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "cache_views.hpp"
#include "dyldcache/shared_cache.hpp"
#include "fat_slices.hpp"
#include "macho_views.hpp"
#include "objfile/fat_file.hpp"
#include "objfile/macho_file.hpp"
#include "options.hpp"
#include "procscope/mapped_file.hpp"
#include "report.hpp"

namespace dyldinfo {

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "dyldinfo: %s\n", message.c_str());
    return 1;
}

int emit(Report& report) {
    if (report.opts.json) {
        report.json.end_object();
        std::string text = report.json.text();
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
        std::fwrite(report.text.data(), 1, report.text.size(), stdout);
    }
    if (std::fflush(stdout) != 0) return fail("stdout: write failed");
    return report.not_found ? 1 : 0;
}

void begin_json(Report& report, std::string_view kind) {
    if (!report.opts.json) return;
    report.json.begin_object();
    report.json.field("schema", "dyldinfo/1");
    report.json.field("file", report.opts.file);
    report.json.field("kind", kind);
    report.json.field_hex("slide", report.slide);
}

int run_cache(const Options& opts) {
    auto cache = dyldcache::SharedCache::open(opts.file);
    if (!cache) return fail(cache.error().message);
    Report report(opts);
    if (opts.slide) report.slide = *opts.slide;
    if (opts.base) report.slide = *opts.base - cache->base_address();
    if (!opts.json)
        for (const std::string& warning : cache->warnings()) std::fprintf(stderr, "dyldinfo: warning: %s\n", warning.c_str());
    begin_json(report, "cache");
    if (opts.wants_summary()) write_cache_summary(report, *cache);
    if (opts.images) write_image_list(report, *cache);
    if (opts.mappings) write_mapping_list(report, *cache);
    auto run = [&](procscope::Expected<void> (*view)(Report&, const dyldcache::SharedCache&)) -> bool {
        auto ok = view(report, *cache);
        if (!ok) fail(ok.error().message);
        return ok.has_value();
    };
    if (opts.slide_info && !run(write_slide_report)) return 1;
    if (opts.image && opts.lookups.empty() && !run(write_cache_image)) return 1;
    if (opts.symbols && !run(write_cache_symbols)) return 1;
    if (!opts.lookups.empty() && !run(write_cache_lookups)) return 1;
    if (!opts.addresses.empty() && !run(write_cache_addresses)) return 1;
    if (opts.pointer && !run(write_cache_pointer)) return 1;
    return emit(report);
}

int run_macho(const Options& opts, procscope::Bytes bytes) {
    procscope::Bytes slice = bytes;
    std::string name = opts.file;
    std::optional<objfile::FatFile> fat;
    SliceChoice choice;
    if (objfile::FatFile::is_fat(bytes)) {
        auto parsed = objfile::FatFile::parse(bytes, opts.file);
        if (!parsed) return fail(parsed.error().message);
        fat = std::move(*parsed);
        auto chosen = choose_slice(*fat, opts.arch, opts.file);
        if (!chosen) return fail(chosen.error().message);
        choice = *chosen;
        slice = fat->slices()[choice.index].bytes;
        name += " (" + std::string(fat->slices()[choice.index].arch()) + ")";
    }
    auto macho = objfile::MachOFile::parse(slice, name);
    if (!macho) return fail(macho.error().message);
    if (!fat && !opts.arch.empty() && macho->arch() != opts.arch)
        return fail(opts.file + ": no slice for " + opts.arch + " (a thin " +
                    std::string(macho->arch().empty() ? "unknown-architecture" : macho->arch()) + " file)");
    Report report(opts);
    if (opts.slide) report.slide = *opts.slide;
    if (opts.base) report.slide = *opts.base - macho->image_base();
    begin_json(report, "macho");
    if (fat) {
        write_slice_choice(report, *fat, choice);
        if (opts.wants_summary()) write_fat_summary(report, *fat, choice);
    }
    if (auto ok = write_macho_views(report, *macho); !ok) return fail(ok.error().message);
    return emit(report);
}

}  // namespace

}  // namespace dyldinfo

int main(int argc, char** argv) {
    auto opts = dyldinfo::parse_options(argc, argv);
    if (!opts) return opts.error();
    auto file = procscope::MappedFile::open(opts->file);
    if (!file) return dyldinfo::fail(file.error().message);
    const procscope::Bytes bytes = file->bytes();
    if (bytes.size() >= 4 && std::memcmp(bytes.data(), "dyld", 4) == 0) {
        file = {};  // SharedCache maps the file itself
        return dyldinfo::run_cache(*opts);
    }
    auto magic = procscope::load<std::uint32_t>(bytes, 0);
    const bool macho = magic && (*magic == objfile::macho::mh_magic || *magic == objfile::macho::mh_cigam ||
                                 *magic == objfile::macho::mh_magic_64 || *magic == objfile::macho::mh_cigam_64);
    if (macho || objfile::FatFile::is_fat(bytes)) return dyldinfo::run_macho(*opts, bytes);
    return dyldinfo::fail(opts->file + ": neither a dyld shared cache (no \"dyld_v\" magic) nor a Mach-O file");
}
