#include "fat_slices.hpp"

#include <optional>

#include "objfile/macho_names.hpp"
#include "objfile/macho_types.hpp"
#include "procscope/hex.hpp"
#include "text_table.hpp"

namespace dyldinfo {

namespace {

std::string slice_name(const objfile::FatSlice& slice) {
    if (!slice.arch().empty()) return std::string(slice.arch());
    return "cputype " + procscope::to_hex(static_cast<std::uint32_t>(slice.cputype)) + " subtype " +
           procscope::to_hex(static_cast<std::uint32_t>(slice.cpusubtype));
}

std::uint32_t subtype_without_capabilities(const objfile::FatSlice& slice) {
    return static_cast<std::uint32_t>(slice.cpusubtype) & ~objfile::macho::cpu_subtype_mask;
}

std::uint32_t capabilities(const objfile::FatSlice& slice) { return static_cast<std::uint32_t>(slice.cpusubtype) >> 24; }

std::string reason_text(const SliceChoice& choice) {
    const HostArch host = host_arch();
    if (choice.reason == "option") return "--arch";
    if (choice.reason == "host") return "host architecture";
    if (choice.reason == "host_variant")
        return "host CPU type, no " + std::string(host.preferred) + " slice";
    if (host.preferred.empty()) return "first slice";
    return "first slice, no " + std::string(host.preferred) + " slice for the host";
}

}  // namespace

HostArch host_arch() noexcept {
    // llvm-nm and Apple's nm read the host's slice when there is one (llvm-nm matches the
    // host triple's arch name exactly). Apple silicon processes are arm64, so arm64 comes
    // before arm64e there; an arm64e build of dyldinfo prefers arm64e.
#if defined(__x86_64__)
    return {"x86_64", "x86_64h"};
#elif defined(__arm64e__)
    return {"arm64e", "arm64"};
#elif defined(__aarch64__)
    return {"arm64", "arm64e"};
#elif defined(__i386__)
    return {"i386", ""};
#else
    return {"", ""};
#endif
}

std::string slice_names(const objfile::FatFile& fat) {
    std::string names;
    for (const objfile::FatSlice& slice : fat.slices()) {
        if (!names.empty()) names += ", ";
        names += slice_name(slice);
    }
    return names;
}

procscope::Expected<SliceChoice> choose_slice(const objfile::FatFile& fat, const std::string& requested,
                                              const std::string& file) {
    const auto& slices = fat.slices();
    auto find = [&](std::string_view arch) -> std::optional<std::size_t> {
        if (arch.empty()) return std::nullopt;
        for (std::size_t i = 0; i < slices.size(); ++i)
            if (slices[i].arch() == arch) return i;
        return std::nullopt;
    };
    if (slices.empty())
        return procscope::make_error(procscope::ErrorCode::invalid_argument, file + ": a fat file with no slices");
    if (!requested.empty()) {
        if (auto index = find(requested)) return SliceChoice{*index, "option"};
        return procscope::make_error(procscope::ErrorCode::invalid_argument,
                                     file + ": no slice for " + requested + " (the file has " + slice_names(fat) + ")");
    }
    const HostArch host = host_arch();
    if (auto index = find(host.preferred)) return SliceChoice{*index, "host"};
    if (auto index = find(host.variant)) return SliceChoice{*index, "host_variant"};
    return SliceChoice{0, "first"};
}

void write_slice_choice(Report& report, const objfile::FatFile& fat, const SliceChoice& choice) {
    const objfile::FatSlice& slice = fat.slices()[choice.index];
    if (report.opts.json) {
        auto& json = report.json;
        json.key("slice");
        json.begin_object();
        json.field("arch", slice_name(slice));
        json.field_number("index", choice.index);
        json.field("reason", choice.reason);
        const std::string_view host = host_arch().preferred;
        if (host.empty()) {
            json.key("host_arch");
            json.null();
        } else {
            json.field("host_arch", host);
        }
        json.field_hex("offset", slice.offset);
        json.field_number("size", slice.size);
        json.key("file_arches");
        json.begin_array();
        for (const objfile::FatSlice& each : fat.slices()) json.string(slice_name(each));
        json.end_array();
        json.end_object();
        return;
    }
    report.begin_text_view("");
    report.text += "Slice:         " + slice_name(slice) + " (" + reason_text(choice) + "; file has " + slice_names(fat) + ")\n";
}

void write_fat_summary(Report& report, const objfile::FatFile& fat, const SliceChoice& choice) {
    if (report.opts.json) {
        auto& json = report.json;
        json.key("fat");
        json.begin_object();
        json.field("table", fat.uses_64bit_table() ? "fat_arch_64" : "fat_arch");
        json.key("slices");
        json.begin_array();
        for (std::size_t i = 0; i < fat.slices().size(); ++i) {
            const objfile::FatSlice& slice = fat.slices()[i];
            json.begin_object();
            json.field("arch", slice_name(slice));
            json.field_number("cputype", static_cast<std::uint32_t>(slice.cputype));
            json.field_number("cpusubtype", subtype_without_capabilities(slice));
            json.field_hex("capabilities", capabilities(slice));
            json.field_hex("offset", slice.offset);
            json.field_number("size", slice.size);
            json.field_number("align", slice.align);
            json.field_bool("chosen", i == choice.index);
            json.end_object();
        }
        json.end_array();
        json.end_object();
        return;
    }
    report.begin_text_view("Slices (" + std::to_string(fat.slices().size()) + ", " +
                           (fat.uses_64bit_table() ? "fat_arch_64" : "fat_arch") + " table):");
    using Align = TextTable::Align;
    TextTable table({"", "ARCH", "CPUTYPE", "CPUSUBTYPE", "CAPS", "OFFSET", "SIZE", "ALIGN"},
                    {Align::left, Align::left, Align::left, Align::left, Align::left, Align::left, Align::right,
                     Align::left});
    for (std::size_t i = 0; i < fat.slices().size(); ++i) {
        const objfile::FatSlice& slice = fat.slices()[i];
        const std::string align = slice.align < 64 ? std::to_string(std::uint64_t{1} << slice.align) : "?";
        table.add({i == choice.index ? "*" : "", slice_name(slice),
                   procscope::to_hex(static_cast<std::uint32_t>(slice.cputype)),
                   procscope::to_hex(subtype_without_capabilities(slice)), procscope::to_hex(capabilities(slice)),
                   procscope::to_hex(slice.offset), std::to_string(slice.size),
                   "2^" + std::to_string(slice.align) + " (" + align + ")"});
    }
    report.text += table.render(!report.opts.no_header);
}

}  // namespace dyldinfo
