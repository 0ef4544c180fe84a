// The output being put together: text or JSON, with the slide every printed address gets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "json_writer.hpp"
#include "options.hpp"
#include "procscope/hex.hpp"

namespace dyldinfo {

struct Report {
    explicit Report(const Options& options) : opts(options) {}

    const Options& opts;
    std::uint64_t slide = 0;  // added to every address printed, subtracted from every address read
    JsonWriter json;
    std::string text;
    bool not_found = false;   // a symbol or address was not found: exit status 1
    bool first_view = true;

    std::string addr(std::uint64_t unslid) const { return procscope::to_hex(unslid + slide); }
    void json_addr(std::string_view name, std::uint64_t unslid) { json.field_hex(name, unslid + slide); }
    std::uint64_t unslide(std::uint64_t runtime) const { return runtime - slide; }

    // Starts a text view: a blank line between views, then `title` when several are shown.
    void begin_text_view(const std::string& title) {
        if (!first_view) text += '\n';
        first_view = false;
        if (!title.empty() && !opts.no_header) text += title + "\n";
    }
};

// "12.0", "10.15.7": Mach-O's xxxx.yy.zz nibble encoding.
std::string format_version(std::uint32_t version);

}  // namespace dyldinfo
