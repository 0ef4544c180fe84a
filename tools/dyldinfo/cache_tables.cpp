// The cache's tables: images, mappings, slide info.
#include "cache_views.hpp"
#include "text_table.hpp"

namespace dyldinfo {

using procscope::human_size;
using procscope::to_hex;

namespace {

std::string protection(std::uint32_t prot) {
    std::string text = "---";
    if (prot & 1) text[0] = 'r';
    if (prot & 2) text[1] = 'w';
    if (prot & 4) text[2] = 'x';
    return text;
}

std::string key_name(std::uint8_t key) {
    static constexpr const char* names[] = {"IA", "IB", "DA", "DB"};
    return names[key & 3];
}

}  // namespace

void write_image_list(Report& report, const dyldcache::SharedCache& cache) {
    const auto images = cache.images();
    if (report.opts.json) {
        auto& json = report.json;
        json.key("images");
        json.begin_array();
        for (const dyldcache::CacheImage& image : images) {
            json.begin_object();
            json.field_number("index", image.index);
            json.field("path", image.path);
            report.json_addr("address", image.address);
            if (image.text_size) json.field_number("text_size", *image.text_size);
            if (image.uuid) json.field("uuid", dyldcache::format_uuid(*image.uuid));
            json.key("aliases");
            json.begin_array();
            for (const std::string& alias : image.aliases) json.string(alias);
            json.end_array();
            json.end_object();
        }
        json.end_array();
        return;
    }
    report.begin_text_view("Images (" + std::to_string(images.size()) + "):");
    const bool have_text_info = !images.empty() && images.front().uuid.has_value();
    std::vector<std::string> headings{"INDEX", "ADDRESS"};
    if (have_text_info) headings.insert(headings.end(), {"TEXT", "UUID"});
    headings.push_back("PATH");
    std::vector<TextTable::Align> align{TextTable::Align::right, TextTable::Align::left};
    if (have_text_info) align.insert(align.end(), {TextTable::Align::right, TextTable::Align::left});
    align.push_back(TextTable::Align::left);
    TextTable table(headings, align);
    for (const dyldcache::CacheImage& image : images) {
        std::vector<std::string> row{std::to_string(image.index), report.addr(image.address)};
        if (have_text_info) {
            row.push_back(image.text_size ? human_size(*image.text_size) : "-");
            row.push_back(image.uuid ? dyldcache::format_uuid(*image.uuid) : "-");
        }
        std::string path = procscope::escape_bytes(image.path);
        for (const std::string& alias : image.aliases) path += "  (alias " + procscope::escape_bytes(alias) + ")";
        row.push_back(std::move(path));
        table.add(std::move(row));
    }
    report.text += table.render(!report.opts.no_header);
}

void write_mapping_list(Report& report, const dyldcache::SharedCache& cache) {
    const auto mappings = cache.address_space().mappings();
    const auto files = cache.files();
    if (report.opts.json) {
        auto& json = report.json;
        json.key("mappings");
        json.begin_array();
        for (const dyldcache::CacheMapping& mapping : mappings) {
            json.begin_object();
            json.field("name", mapping.name());
            report.json_addr("address", mapping.address);
            json.field_number("size", mapping.size);
            json.field("file", files[mapping.file_index].path);
            json.field_hex("file_offset", mapping.file_offset);
            json.field("max_prot", protection(mapping.max_prot));
            json.field("init_prot", protection(mapping.init_prot));
            json.field_hex("flags", mapping.flags);
            if (mapping.slide_info_size) {
                json.field_hex("slide_info_offset", mapping.slide_info_offset);
                json.field_number("slide_info_size", mapping.slide_info_size);
            }
            json.end_object();
        }
        json.end_array();
        return;
    }
    report.begin_text_view("Mappings (" + std::to_string(mappings.size()) + "):");
    TextTable table({"NAME", "ADDRESS", "END", "SIZE", "FILE OFFSET", "PROT", "SLIDE INFO", "FILE"},
                    {TextTable::Align::left, TextTable::Align::left, TextTable::Align::left, TextTable::Align::right,
                     TextTable::Align::left, TextTable::Align::left, TextTable::Align::left, TextTable::Align::left});
    for (const dyldcache::CacheMapping& mapping : mappings) {
        std::string file = files[mapping.file_index].suffix.empty() ? std::string("main") : files[mapping.file_index].suffix;
        table.add({std::string(mapping.name()), report.addr(mapping.address), report.addr(mapping.end()),
                   human_size(mapping.size), to_hex(mapping.file_offset),
                   protection(mapping.init_prot) + "/" + protection(mapping.max_prot),
                   mapping.slide_info_size ? to_hex(mapping.slide_info_offset) + " (" + human_size(mapping.slide_info_size) + ")"
                                           : "-",
                   file});
    }
    report.text += table.render(!report.opts.no_header);
}

procscope::Expected<void> write_slide_report(Report& report, const dyldcache::SharedCache& cache) {
    const auto mappings = cache.address_space().mappings();
    struct Row {
        const dyldcache::CacheMapping* mapping;
        dyldcache::SlideInfoStats stats;
    };
    std::vector<Row> rows;
    for (std::uint32_t i = 0; i < mappings.size(); ++i) {
        auto info = cache.slide_info(i);
        if (!info) return std::unexpected(info.error());
        if (!*info) continue;
        auto contents = cache.address_space().bytes_from(mappings[i].address);
        auto stats = (*info)->stats(*contents);
        if (!stats) return std::unexpected(stats.error());
        rows.push_back({&mappings[i], *stats});
    }
    if (report.opts.json) {
        auto& json = report.json;
        json.key("slide_info");
        json.begin_array();
        for (const Row& row : rows) {
            json.begin_object();
            json.field("mapping", row.mapping->name());
            report.json_addr("address", row.mapping->address);
            json.field_number("version", row.stats.version);
            json.field_number("page_size", row.stats.page_size);
            json.field_number("pages", row.stats.page_count);
            json.field_number("pages_with_rebases", row.stats.pages_with_rebases);
            json.field_number("rebases", row.stats.rebase_count);
            json.field_number("pointers", row.stats.pointer_count);
            json.field_number("auth_pointers", row.stats.auth_count);
            json.field_number("pages_with_extra_chains", row.stats.extra_chains);
            json.field_hex("value_add", row.stats.value_add);
            json.field_hex("delta_mask", row.stats.delta_mask);
            json.end_object();
        }
        json.end_array();
        return {};
    }
    report.begin_text_view("Slide info (" + std::to_string(rows.size()) + (rows.size() == 1 ? " mapping):" : " mappings):"));
    TextTable table({"MAPPING", "ADDRESS", "VERSION", "PAGE", "PAGES", "REBASED PAGES", "REBASES", "POINTERS", "AUTH",
                     "VALUE ADD"},
                    {TextTable::Align::left, TextTable::Align::left, TextTable::Align::right, TextTable::Align::right,
                     TextTable::Align::right, TextTable::Align::right, TextTable::Align::right, TextTable::Align::right,
                     TextTable::Align::right, TextTable::Align::left});
    for (const Row& row : rows)
        table.add({std::string(row.mapping->name()), report.addr(row.mapping->address), std::to_string(row.stats.version),
                   human_size(row.stats.page_size), std::to_string(row.stats.page_count),
                   std::to_string(row.stats.pages_with_rebases), std::to_string(row.stats.rebase_count),
                   std::to_string(row.stats.pointer_count), std::to_string(row.stats.auth_count),
                   to_hex(row.stats.value_add)});
    report.text += table.render(!report.opts.no_header);
    return {};
}

procscope::Expected<void> write_cache_pointer(Report& report, const dyldcache::SharedCache& cache) {
    const std::uint64_t address = report.unslide(*report.opts.pointer);
    auto pointer = cache.read_pointer(address, report.slide);
    if (!pointer) return std::unexpected(pointer.error());
    const auto* mapping = cache.address_space().mapping_at(address);
    if (report.opts.json) {
        auto& json = report.json;
        json.key("pointer");
        json.begin_object();
        report.json_addr("address", address);
        json.field("mapping", mapping ? mapping->name() : "");
        json.field_hex("raw", pointer->raw);
        json.field_bool("rebased", pointer->rebased);
        json.field_bool("is_pointer", pointer->is_pointer);
        json.field_hex("target", pointer->target);
        json.field_hex("value", pointer->value);
        json.field_bool("authenticated", pointer->authenticated);
        if (pointer->authenticated) {
            json.field("key", key_name(pointer->key));
            json.field_number("diversity", pointer->diversity);
            json.field_bool("address_diversity", pointer->address_diversity);
        } else {
            json.field_number("high8", pointer->high8);
        }
        json.end_object();
        return {};
    }
    report.begin_text_view("");
    std::string& text = report.text;
    text += "Address:       " + report.addr(address) + (mapping ? "  (" + std::string(mapping->name()) + ")" : "") + "\n";
    text += "Raw:           " + to_hex(pointer->raw) + "\n";
    if (!pointer->rebased) {
        text += "Rebased:       no (not on a slide chain; the value does not move with the slide)\n";
        text += "Value:         " + to_hex(pointer->value) + "\n";
        return {};
    }
    if (!pointer->is_pointer) {
        text += "Rebased:       on a chain, but a small integer (not slid)\n";
        text += "Value:         " + to_hex(pointer->value) + "\n";
        return {};
    }
    text += "Target:        " + to_hex(pointer->target) + " (unslid)\n";
    text += "Value:         " + to_hex(pointer->value) + (report.slide ? " (slide " + to_hex(report.slide) + ")" : "") + "\n";
    if (pointer->authenticated)
        text += "Auth:          key " + key_name(pointer->key) + ", diversity " + to_hex(pointer->diversity) +
                (pointer->address_diversity ? ", address-diversified" : "") + "\n";
    else if (pointer->high8)
        text += "High byte:     " + to_hex(pointer->high8) + "\n";
    return {};
}

}  // namespace dyldinfo
