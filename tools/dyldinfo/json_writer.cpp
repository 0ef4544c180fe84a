#include "json_writer.hpp"

#include <charconv>

#include "procscope/hex.hpp"

namespace dyldinfo {

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) out_ += ',';
        first_.back() = false;
    }
}

void JsonWriter::begin_object() {
    before_value();
    out_ += '{';
    first_.push_back(true);
}

void JsonWriter::end_object() {
    out_ += '}';
    first_.pop_back();
}

void JsonWriter::begin_array() {
    before_value();
    out_ += '[';
    first_.push_back(true);
}

void JsonWriter::end_array() {
    out_ += ']';
    first_.pop_back();
}

void JsonWriter::key(std::string_view name) {
    before_value();
    out_ += '"';
    out_ += procscope::json_escape(name);
    out_ += "\":";
    after_key_ = true;
}

void JsonWriter::string(std::string_view bytes) {
    before_value();
    out_ += '"';
    out_ += procscope::json_escape(bytes);
    out_ += '"';
}

void JsonWriter::number(std::uint64_t value) {
    before_value();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, end);
}

void JsonWriter::signed_number(std::int64_t value) {
    before_value();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, end);
}

void JsonWriter::hex(std::uint64_t value) {
    before_value();
    out_ += '"';
    out_ += procscope::to_hex(value);
    out_ += '"';
}

void JsonWriter::boolean(bool value) {
    before_value();
    out_ += value ? "true" : "false";
}

void JsonWriter::null() {
    before_value();
    out_ += "null";
}

}  // namespace dyldinfo
