#include "number_format.hpp"

namespace procmaps::cli {

char* write_human_size(char* out, std::uint64_t bytes) noexcept {
    if (bytes < 1024) return write_decimal(out, bytes);
    // Whole kibibytes below 1M (most regions) print as an integer: skip the floating point.
    if (bytes < (std::uint64_t{1} << 20) && (bytes & 1023) == 0) {
        out = write_decimal(out, bytes >> 10);
        *out++ = 'K';
        return out;
    }
    // Mirrors procscope::human_size step by step so both print the same text.
    static constexpr char units[] = "KMGTPE";
    double value = static_cast<double>(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    bool whole = value >= 100.0 || value == static_cast<double>(static_cast<std::uint64_t>(value));
    out = std::to_chars(out, out + human_size_max - 1, value, std::chars_format::fixed, whole ? 0 : 1).ptr;
    *out++ = units[unit];
    return out;
}

} // namespace procmaps::cli
