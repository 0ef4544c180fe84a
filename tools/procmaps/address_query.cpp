#include "address_query.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <fmt/format.h>
#include <map>
#include <string>

#include "json_text.hpp"
#include "number_format.hpp"
#include "procscope/hex.hpp"
#include "region_json.hpp"

namespace procmaps::cli {

namespace {

std::string hex_bytes(std::span<const std::byte> bytes) {
    std::string text(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) write_hex(text.data() + 2 * i, std::to_integer<unsigned>(bytes[i]), 2);
    return text;
}

std::string zero_padded(std::uint64_t value, int digits) {
    std::string text(2 + static_cast<std::size_t>(digits), '0');
    write_hex(text.data() + 2, value, digits);
    text[1] = 'x';
    return text;
}

bool is_file_backed(const Region& r) { return r.kind == RegionKind::file || r.kind == RegionKind::deleted_file; }

} // namespace

Expected<AddressAnswers> AddressAnswers::from_process(const Process& process, std::span<const std::uint64_t> addrs) {
    AddressAnswers result;
    std::map<std::uint64_t, const RegionQuery*> by_start; // answered regions
    for (std::uint64_t addr : addrs) {
        AddressAnswer answer{addr, nullptr, {}};
        if (auto it = by_start.upper_bound(addr); it != by_start.begin() && std::prev(it)->second->region().contains(addr)) {
            const RegionQuery* known = std::prev(it)->second;
            answer.region = &known->region();
            answer.build_id = known->build_id;
        } else {
            auto found = process.query(addr);
            if (!found) return std::unexpected(found.error());
            if (*found) {
                auto& stored = result.queries_.emplace_back(std::make_unique<RegionQuery>(std::move(**found)));
                by_start[stored->region().start] = stored.get();
                answer.region = &stored->region();
                answer.build_id = stored->build_id;
            }
        }
        result.answers_.push_back(answer);
    }
    return result;
}

AddressAnswers AddressAnswers::from_regions(const RegionList& regions, std::span<const std::uint64_t> addrs) {
    AddressAnswers result;
    for (std::uint64_t addr : addrs) result.answers_.push_back({addr, regions.find(addr), {}});
    return result;
}

void write_address_table(OutputBuffer& out, const SourceInfo& source, const AddressAnswers& answers,
                         bool headings) {
    const auto rows = answers.answers();
    int addr_digits = 1, range_digits = 1, offset_digits = 1;
    std::size_t mapped = 0, kind_width = 8 /* "unmapped" */, id_width = 8 /* "BUILD-ID" */;
    for (const AddressAnswer& a : rows) {
        addr_digits = std::max(addr_digits, hex_digits(a.address));
        if (!a.region) continue;
        ++mapped;
        range_digits = std::max(range_digits, hex_digits(a.region->end));
        offset_digits = std::max(offset_digits, hex_digits(a.region->offset));
        kind_width = std::max(kind_width, to_string(a.region->kind).size());
        id_width = std::max(id_width, 2 * a.build_id.size());
    }
    const std::size_t addr_width = 2 + static_cast<std::size_t>(addr_digits);
    const std::size_t range_width = 2 * (2 + static_cast<std::size_t>(range_digits)) + 1;
    const std::size_t offset_width = std::max<std::size_t>(6, 2 + static_cast<std::size_t>(offset_digits));
    auto row = [&](std::string_view addr, std::string_view kind, std::string_view range, std::string_view prt,
                   std::string_view shr, std::string_view offset, std::string_view id, std::string_view path) {
        std::string line;
        for (auto [cell, width] : {std::pair{addr, addr_width}, {kind, kind_width}, {range, range_width},
                                   {prt, std::size_t{3}}, {shr, std::size_t{3}}, {offset, offset_width},
                                   {id, id_width}}) {
            line += cell;
            line.append(width - std::min(width, cell.size()) + 2, ' ');
        }
        line += path;
        while (!line.empty() && line.back() == ' ') line.pop_back();
        line += '\n';
        out.append(line);
    };
    if (headings) {
        write_source_title(out, source);
        out.append(fmt::format(": {} address{}, {} mapped\n", rows.size(), rows.size() == 1 ? "" : "es", mapped));
        row("ADDRESS", "KIND", "START-END", "PRT", "SHR", "OFFSET", "BUILD-ID", "PATH");
    }
    for (const AddressAnswer& a : rows) {
        std::string addr = zero_padded(a.address, addr_digits);
        if (!a.region) {
            row(addr, "unmapped", "", "", "", "", "", "");
            continue;
        }
        const Region& r = *a.region;
        auto rwx = r.perms.rwx();
        char offset[24];
        std::string path = procscope::escape_bytes(r.path);
        if (r.deleted) path += " (deleted)";
        row(addr, to_string(r.kind), zero_padded(r.start, range_digits) + "-" + zero_padded(r.end, range_digits),
            {rwx.data(), rwx.size()}, r.perms.is_shared() ? "s" : "p",
            {offset, static_cast<std::size_t>(write_0x(offset, r.offset) - offset)},
            a.build_id.empty() ? "-" : hex_bytes(a.build_id), path);
    }
}

void write_address_json(OutputBuffer& out, const SourceInfo& source, const AddressAnswers& answers) {
    out.append(R"({"schema":"procmaps/1",)");
    write_source_json(out, source);
    out.append(R"(,"queries":[)");
    bool first = true;
    for (const AddressAnswer& a : answers.answers()) {
        out.append(first ? "\n" : ",\n");
        first = false;
        write_json_hex(out, R"({"address":)", a.address);
        out.append(R"(,"region":)");
        if (a.region) write_region_json(out, *a.region, nullptr);
        else out.append("null");
        out.append(R"(,"build_id":)");
        if (a.build_id.empty()) out.append("null");
        else out.append(fmt::format("\"{}\"", hex_bytes(a.build_id)));
        if (a.region && is_file_backed(*a.region)) write_json_hex(out, R"(,"file_offset":)", a.region->offset + (a.address - a.region->start));
        else out.append(R"(,"file_offset":null)");
        out.append('}');
    }
    out.append("\n]}\n");
}

} // namespace procmaps::cli
