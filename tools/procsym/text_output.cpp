#include "text_output.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "procscope/hex.hpp"

namespace procsym::cli {

namespace {

// A table whose columns are as wide as their widest cell; numbers align right.
class Table {
public:
    Table(std::vector<std::string> headings, std::vector<bool> right) : right_(std::move(right)) {
        rows_.push_back(std::move(headings));
    }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    std::string render(bool header) const {
        std::vector<std::size_t> widths(rows_[0].size(), 0);
        for (std::size_t r = header ? 0 : 1; r < rows_.size(); ++r)
            for (std::size_t c = 0; c < widths.size(); ++c) widths[c] = std::max(widths[c], rows_[r][c].size());
        std::string out;
        for (std::size_t r = header ? 0 : 1; r < rows_.size(); ++r) {
            std::string line;
            for (std::size_t c = 0; c < widths.size(); ++c) {
                const std::string& cell = rows_[r][c];
                bool last = c + 1 == widths.size();
                if (c > 0) line += "  ";
                if (right_[c]) line += std::string(widths[c] - cell.size(), ' ') + cell;
                else line += last ? cell : cell + std::string(widths[c] - cell.size(), ' ');
            }
            out += line;
            out += '\n';
        }
        return out;
    }

private:
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

std::string image_text(const ImageFacts& image) {
    if (image.path.empty()) return "-";
    return procscope::escape_bytes(image.path) + (image.deleted ? " (deleted)" : "");
}

std::string optional_hex(const std::optional<std::uint64_t>& value) {
    return value ? procscope::to_hex(*value) : "-";
}

} // namespace

std::string value_text(const Value& value) {
    switch (value.kind) {
    case ReadKind::none: return "";
    case ReadKind::u64: return procscope::to_hex(value.u64);
    case ReadKind::string: return "\"" + procscope::escape_bytes(value.bytes) + "\"";
    case ReadKind::bytes: {
        std::string out;
        for (std::size_t i = 0; i < value.bytes.size(); ++i)
            out += fmt::format("{}{:02x}", i ? " " : "", static_cast<unsigned char>(value.bytes[i]));
        return out;
    }
    }
    return "";
}

std::string symbol_table(const std::vector<SymbolAnswer>& answers, ReadKind read, bool header) {
    std::vector<std::string> headings = {"SYMBOL", "ADDRESS", "SIZE", "IMAGE", "VADDR", "FILE-OFFSET", "FROM"};
    std::vector<bool> right = {false, false, true, false, false, false, false};
    if (read != ReadKind::none) {
        headings.push_back("VALUE");
        right.push_back(false);
    }
    Table table(std::move(headings), std::move(right));
    std::size_t rows = 0;
    for (const SymbolAnswer& a : answers) {
        if (!a.symbol || a.error) continue;
        const symbols::ResolvedSymbol& s = *a.symbol;
        std::vector<std::string> row = {procscope::escape_bytes(s.name), procscope::to_hex(s.address), std::to_string(s.size),
                                        image_text(a.image), procscope::to_hex(s.file_vaddr), optional_hex(a.file_offset),
                                        std::string(symbols::to_string(s.source))};
        if (read != ReadKind::none) row.push_back(a.value ? value_text(*a.value) : "-");
        table.add(std::move(row));
        ++rows;
    }
    return rows ? table.render(header) : std::string();
}

std::string address_table(const std::vector<AddressAnswer>& answers, bool header) {
    Table table({"ADDRESS", "IMAGE", "FILE-OFFSET", "VADDR", "SYMBOL", "FROM"},
                {false, false, false, false, false, false});
    std::size_t rows = 0;
    for (const AddressAnswer& a : answers) {
        if (!a.resolved || a.error) continue;
        const symbols::ResolvedAddress& r = *a.resolved;
        std::string symbol = "-", from = "-";
        if (r.symbol) {
            symbol = procscope::escape_bytes(objfile::versioned_name(r.symbol->symbol));
            if (r.symbol->offset) symbol += "+" + procscope::to_hex(r.symbol->offset);
            from = symbols::to_string(r.symbol->source);
        }
        table.add({procscope::to_hex(r.address), image_text(a.image), optional_hex(r.file_offset),
                   r.image ? procscope::to_hex(r.file_vaddr) : "-", symbol, from});
        ++rows;
    }
    return rows ? table.render(header) : std::string();
}

} // namespace procsym::cli
