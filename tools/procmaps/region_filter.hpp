// Which regions a listing or summary shows: --kind, --path, --perms.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "procmaps/region.hpp"

namespace procmaps::cli {

class RegionFilter {
public:
    // "file,heap" (names as procmaps::to_string prints them); false on an unknown name.
    bool add_kinds(std::string_view names, std::string& bad_name);
    void set_path_substring(std::string bytes);
    // Three or four characters, "rwx" plus optional "p"/"s": a letter means the bit must be
    // set, '-' that it must be clear, '?' or '.' either. False when the pattern is malformed.
    bool set_perms_pattern(std::string_view pattern);

    bool active() const noexcept { return kind_mask_ != 0 || has_path_ || perms_care_ != 0; }
    bool matches(const Region& region) const noexcept {
        if (kind_mask_ != 0 && !(kind_mask_ & (1u << static_cast<unsigned>(region.kind)))) return false;
        if ((region.perms.bits & perms_care_) != perms_want_) return false;
        return !has_path_ || region.path.find(path_) != std::string_view::npos;
    }

private:
    std::uint32_t kind_mask_ = 0;
    std::uint8_t perms_care_ = 0; // Perms bits the pattern constrains
    std::uint8_t perms_want_ = 0; // their required values
    bool has_path_ = false;
    std::string path_;
};

} // namespace procmaps::cli
