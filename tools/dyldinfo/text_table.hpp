// Human tables sized to their content: columns padded to the widest cell, two spaces apart,
// the last column unpadded (it holds paths and names).
#pragma once

#include <string>
#include <vector>

namespace dyldinfo {

class TextTable {
public:
    enum class Align { left, right };
    explicit TextTable(std::vector<std::string> headings, std::vector<Align> align = {});
    void add(std::vector<std::string> row);
    bool empty() const noexcept { return rows_.empty(); }
    // The table as text, headings first unless `with_headings` is false.
    std::string render(bool with_headings = true) const;

private:
    std::vector<std::string> headings_;
    std::vector<Align> align_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace dyldinfo
