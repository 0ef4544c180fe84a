// A small streaming JSON writer for dyldinfo's --json output (schema: docs/dyldinfo.md).
// Addresses go out as "0x..." strings: 64-bit values exceed what many JSON readers hold exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dyldinfo {

class JsonWriter {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view name);

    void string(std::string_view bytes);  // any bytes; non-UTF-8 escaped as \u00NN
    void number(std::uint64_t value);
    void signed_number(std::int64_t value);
    void hex(std::uint64_t value);
    void boolean(bool value);
    void null();

    void field(std::string_view name, std::string_view value) { key(name); string(value); }
    void field(std::string_view name, const char* value) { key(name); string(value); }
    void field_number(std::string_view name, std::uint64_t value) { key(name); number(value); }
    void field_hex(std::string_view name, std::uint64_t value) { key(name); hex(value); }
    void field_bool(std::string_view name, bool value) { key(name); boolean(value); }

    const std::string& text() const noexcept { return out_; }

private:
    void before_value();
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written yet
    bool after_key_ = false;
};

}  // namespace dyldinfo
