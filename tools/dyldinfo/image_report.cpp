#include "image_report.hpp"

#include "objfile/macho_names.hpp"
#include "text_table.hpp"

namespace dyldinfo {

namespace {

std::string protection(std::int32_t prot) {
    std::string text = "---";
    if (prot & objfile::macho::vm_prot_read) text[0] = 'r';
    if (prot & objfile::macho::vm_prot_write) text[1] = 'w';
    if (prot & objfile::macho::vm_prot_execute) text[2] = 'x';
    return text;
}

std::string_view link_kind(objfile::DylibLinkKind kind) {
    switch (kind) {
    case objfile::DylibLinkKind::load: return "load";
    case objfile::DylibLinkKind::weak: return "weak";
    case objfile::DylibLinkKind::reexport: return "reexport";
    case objfile::DylibLinkKind::lazy: return "lazy";
    case objfile::DylibLinkKind::upward: return "upward";
    }
    return "?";
}

}  // namespace

std::string format_version(std::uint32_t version) {
    std::string text = std::to_string(version >> 16) + "." + std::to_string((version >> 8) & 0xff);
    if (version & 0xff) text += "." + std::to_string(version & 0xff);
    return text;
}

void write_image_report(Report& report, const objfile::MachOFile& macho, std::string_view path) {
    const auto uuid = macho.uuid();
    const auto install_name = macho.install_name();
    const auto build = macho.build_version();
    const auto dylibs = macho.linked_dylibs();
    if (report.opts.json) {
        auto& json = report.json;
        json.key("image");
        json.begin_object();
        json.field("path", path);
        if (install_name) json.field("install_name", *install_name);
        else {
            json.key("install_name");
            json.null();
        }
        json.field("arch", macho.arch());
        json.field_number("filetype", macho.filetype());
        json.field_hex("flags", macho.flags());
        if (uuid) json.field("uuid", objfile::format_uuid(*uuid));
        else {
            json.key("uuid");
            json.null();
        }
        if (build) {
            json.field("platform", build->platform_name());
            json.field("minos", format_version(build->minos));
            json.field("sdk", format_version(build->sdk));
        }
        report.json_addr("address", macho.image_base());
        json.key("segments");
        json.begin_array();
        for (const objfile::MachOSegment& segment : macho.segments()) {
            json.begin_object();
            json.field("name", segment.name);
            report.json_addr("address", segment.vmaddr);
            json.field_number("size", segment.vmsize);
            json.field_hex("file_offset", segment.fileoff);
            json.field_number("file_size", segment.filesize);
            json.field("max_prot", protection(segment.maxprot));
            json.field("init_prot", protection(segment.initprot));
            json.key("sections");
            json.begin_array();
            for (const objfile::MachOSection& section : macho.sections(segment)) {
                json.begin_object();
                json.field("name", section.name);
                report.json_addr("address", section.addr);
                json.field_number("size", section.size);
                json.field_hex("file_offset", section.offset);
                json.field_hex("flags", section.flags);
                json.end_object();
            }
            json.end_array();
            json.end_object();
        }
        json.end_array();
        json.key("linked_dylibs");
        json.begin_array();
        for (const objfile::LinkedDylib& dylib : dylibs) {
            json.begin_object();
            json.field("path", dylib.name);
            json.field("kind", link_kind(dylib.kind));
            json.field("current_version", format_version(dylib.current_version));
            json.end_object();
        }
        json.end_array();
        json.end_object();
        return;
    }
    report.begin_text_view("");
    std::string& text = report.text;
    text += "Image:         " + procscope::escape_bytes(path) + "\n";
    if (install_name && *install_name != path) text += "Install name:  " + procscope::escape_bytes(*install_name) + "\n";
    text += "Arch:          " + std::string(macho.arch().empty() ? "unknown" : macho.arch()) + "\n";
    text += "UUID:          " + (uuid ? objfile::format_uuid(*uuid) : std::string("none")) + "\n";
    text += "Address:       " + report.addr(macho.image_base()) + "\n";
    if (build)
        text += "Platform:      " + std::string(build->platform_name()) + " " + format_version(build->minos) + " (SDK " +
                format_version(build->sdk) + ")\n";
    text += "\n";
    TextTable segments({"SEGMENT", "SECTION", "ADDRESS", "END", "SIZE", "FILE OFFSET", "PROT"},
                       {TextTable::Align::left, TextTable::Align::left, TextTable::Align::left, TextTable::Align::left,
                        TextTable::Align::right, TextTable::Align::left, TextTable::Align::left});
    for (const objfile::MachOSegment& segment : macho.segments()) {
        segments.add({std::string(segment.name), "", report.addr(segment.vmaddr), report.addr(segment.vmaddr + segment.vmsize),
                      procscope::human_size(segment.vmsize), procscope::to_hex(segment.fileoff),
                      protection(segment.initprot) + "/" + protection(segment.maxprot)});
        for (const objfile::MachOSection& section : macho.sections(segment))
            segments.add({"", std::string(section.name), report.addr(section.addr), report.addr(section.addr + section.size),
                          procscope::human_size(section.size), procscope::to_hex(section.offset), ""});
    }
    text += segments.render(!report.opts.no_header);
    if (!dylibs.empty()) {
        text += "\n";
        TextTable linked({"KIND", "VERSION", "LINKED DYLIB"});
        for (const objfile::LinkedDylib& dylib : dylibs)
            linked.add({std::string(link_kind(dylib.kind)), format_version(dylib.current_version),
                        procscope::escape_bytes(dylib.name)});
        text += linked.render(!report.opts.no_header);
    }
}

}  // namespace dyldinfo
