#include "region_filter.hpp"

namespace procmaps::cli {

bool RegionFilter::add_kinds(std::string_view names, std::string& bad_name) {
    while (!names.empty()) {
        std::size_t comma = names.find(',');
        std::string_view name = names.substr(0, comma);
        names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
        if (name.empty()) continue;
        RegionKind kind{};
        if (!parse_region_kind(name, kind)) {
            bad_name = name;
            return false;
        }
        kind_mask_ |= 1u << static_cast<unsigned>(kind);
    }
    return true;
}

void RegionFilter::set_path_substring(std::string bytes) {
    path_ = std::move(bytes);
    has_path_ = true;
}

bool RegionFilter::set_perms_pattern(std::string_view pattern) {
    if (pattern.size() != 3 && pattern.size() != 4) return false;
    static constexpr char letters[] = "rwx";
    static constexpr std::uint8_t bits[] = {Perms::read, Perms::write, Perms::exec};
    std::uint8_t care = 0, want = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        char c = pattern[i];
        if (c == letters[i]) {
            care |= bits[i];
            want |= bits[i];
        } else if (c == '-') {
            care |= bits[i];
        } else if (c != '?' && c != '.') {
            return false;
        }
    }
    if (pattern.size() == 4) {
        char c = pattern[3];
        if (c == 's') {
            care |= Perms::shared;
            want |= Perms::shared;
        } else if (c == 'p') {
            care |= Perms::shared;
        } else if (c != '?' && c != '.') {
            return false;
        }
    }
    perms_care_ = care;
    perms_want_ = want;
    return true;
}

} // namespace procmaps::cli
