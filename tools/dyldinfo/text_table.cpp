#include "text_table.hpp"

#include <algorithm>

namespace dyldinfo {

TextTable::TextTable(std::vector<std::string> headings, std::vector<Align> align)
    : headings_(std::move(headings)), align_(std::move(align)) {
    align_.resize(headings_.size(), Align::left);
}

void TextTable::add(std::vector<std::string> row) {
    row.resize(headings_.size());
    rows_.push_back(std::move(row));
}

std::string TextTable::render(bool with_headings) const {
    std::vector<std::size_t> width(headings_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    if (with_headings) measure(headings_);
    for (const auto& row : rows_) measure(row);
    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            const bool last = i + 1 == row.size();
            const std::size_t pad = width[i] - row[i].size();
            if (align_[i] == Align::right) line.append(pad, ' ');
            line += row[i];
            if (!last) {
                if (align_[i] == Align::left) line.append(pad, ' ');
                line += "  ";
            }
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line;
        out += '\n';
    };
    if (with_headings) emit(headings_);
    for (const auto& row : rows_) emit(row);
    return out;
}

}  // namespace dyldinfo
