#include "instrument/eh_frame.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "procscope/elf_types.hpp"
#include "procscope/hex.hpp"

namespace instrument {

namespace {

using procscope::Bytes;
using procscope::ErrorCode;
using procscope::Expected;

// DWARF exception-header pointer encodings (LSB 3.0, "DWARF Extensions").
constexpr std::uint8_t pe_omit = 0xff;
constexpr std::uint8_t pe_absptr = 0x00, pe_uleb128 = 0x01, pe_udata2 = 0x02, pe_udata4 = 0x03, pe_udata8 = 0x04,
                       pe_sleb128 = 0x09, pe_sdata2 = 0x0a, pe_sdata4 = 0x0b, pe_sdata8 = 0x0c;
constexpr std::uint8_t pe_pcrel = 0x10, pe_textrel = 0x20, pe_datarel = 0x30, pe_funcrel = 0x40, pe_aligned = 0x50;
constexpr std::uint8_t pe_indirect = 0x80;

// A bounds-checked reader over one record; failures carry the offset in the section.
class Cursor {
public:
    Cursor(Bytes bytes, std::uint64_t pos, std::uint64_t end) : bytes_(bytes), pos_(pos), end_(end) {}
    std::uint64_t pos() const { return pos_; }
    void seek(std::uint64_t pos) { pos_ = pos; }
    bool ok() const { return ok_; }

    template <class T>
    T fixed() {
        if (!ok_ || end_ - pos_ < sizeof(T)) return fail<T>();
        auto value = procscope::load<T>(bytes_, pos_);
        if (!value) return fail<T>();
        pos_ += sizeof(T);
        return *value;
    }
    std::uint64_t uleb() {
        std::uint64_t value = 0;
        for (unsigned shift = 0;; shift += 7) {
            std::uint8_t byte = fixed<std::uint8_t>();
            if (!ok_ || shift >= 64) return fail<std::uint64_t>();
            value |= std::uint64_t{byte & 0x7fu} << shift;
            if (!(byte & 0x80)) return value;
        }
    }
    std::int64_t sleb() {
        std::int64_t value = 0;
        unsigned shift = 0;
        std::uint8_t byte;
        do {
            byte = fixed<std::uint8_t>();
            if (!ok_ || shift >= 64) return fail<std::int64_t>();
            value |= static_cast<std::int64_t>(std::uint64_t{byte & 0x7fu} << shift);
            shift += 7;
        } while (byte & 0x80);
        if (shift < 64 && (byte & 0x40)) value |= static_cast<std::int64_t>(~std::uint64_t{0} << shift); // sign bits
        return value;
    }
    std::string_view c_string() {
        if (!ok_) return {};
        auto text = procscope::c_string_at(bytes_.first(static_cast<std::size_t>(end_)), pos_);
        if (!text) return fail<std::string_view>();
        pos_ += text->size() + 1;
        return *text;
    }

private:
    template <class T>
    T fail() {
        ok_ = false;
        return T{};
    }
    Bytes bytes_;
    std::uint64_t pos_, end_;
    bool ok_ = true;
};

struct Cie {
    std::uint8_t fde_encoding = pe_absptr;
    std::uint8_t lsda_encoding = pe_omit;
    bool has_augmentation_data = false;
};

procscope::Error malformed(std::uint64_t offset, std::string_view what) {
    return procscope::Error{ErrorCode::malformed, ".eh_frame record at offset " + procscope::to_hex(offset) + ": " +
                                                      std::string(what)};
}

// Reads a pointer in `encoding`. `value_only` reads the format without applying pcrel etc.
// (for address ranges). `indirect` pointers cannot be followed here: their value is returned
// with `indirect` set so the caller can decide.
Expected<std::uint64_t> read_encoded(Cursor& in, std::uint8_t encoding, std::uint64_t section_vaddr,
                                     const EhFrameBases& bases, bool value_only, std::uint64_t record) {
    std::uint64_t field_vaddr = section_vaddr + in.pos();
    std::uint64_t value = 0;
    switch (encoding & 0x0f) {
    case pe_absptr:
    case pe_udata8: value = in.fixed<std::uint64_t>(); break;
    case pe_uleb128: value = in.uleb(); break;
    case pe_udata2: value = in.fixed<std::uint16_t>(); break;
    case pe_udata4: value = in.fixed<std::uint32_t>(); break;
    case pe_sleb128: value = static_cast<std::uint64_t>(in.sleb()); break;
    case pe_sdata2: value = static_cast<std::uint64_t>(static_cast<std::int64_t>(in.fixed<std::int16_t>())); break;
    case pe_sdata4: value = static_cast<std::uint64_t>(static_cast<std::int64_t>(in.fixed<std::int32_t>())); break;
    case pe_sdata8: value = in.fixed<std::uint64_t>(); break;
    default: return std::unexpected(malformed(record, "unknown pointer format " + procscope::to_hex(encoding)));
    }
    if (!in.ok()) return std::unexpected(malformed(record, "pointer runs past the record"));
    if (value_only) return value;
    switch (encoding & 0x70) {
    case 0: break;
    case pe_pcrel: value += field_vaddr; break;
    case pe_textrel:
        if (bases.text == 0) return std::unexpected(malformed(record, "textrel pointer without a text base"));
        value += bases.text;
        break;
    case pe_datarel:
        if (bases.data == 0) return std::unexpected(malformed(record, "datarel pointer without a data base"));
        value += bases.data;
        break;
    case pe_funcrel:
    case pe_aligned:
    default: return std::unexpected(malformed(record, "unsupported pointer application " + procscope::to_hex(encoding)));
    }
    return value;
}

Expected<Cie> parse_cie(Bytes section, std::uint64_t offset, std::uint64_t section_vaddr, const EhFrameBases& bases) {
    Cursor in(section, offset, section.size());
    std::uint64_t length = in.fixed<std::uint32_t>();
    bool wide = length == 0xffffffff;
    if (wide) length = in.fixed<std::uint64_t>();
    if (!in.ok() || length > section.size() - in.pos()) return std::unexpected(malformed(offset, "CIE length beyond the section"));
    std::uint64_t end = in.pos() + length;
    Cursor body(section, in.pos(), end);
    std::uint64_t id = wide ? body.fixed<std::uint64_t>() : body.fixed<std::uint32_t>();
    if (!body.ok() || id != 0) return std::unexpected(malformed(offset, "FDE points at a record that is not a CIE"));
    std::uint8_t version = body.fixed<std::uint8_t>();
    if (version != 1 && version != 3 && version != 4)
        return std::unexpected(malformed(offset, "CIE version " + std::to_string(version)));
    std::string_view augmentation = body.c_string();
    if (version == 4) {
        body.fixed<std::uint8_t>(); // address size
        body.fixed<std::uint8_t>(); // segment selector size
    }
    if (augmentation.starts_with("eh")) body.fixed<std::uint64_t>(); // old GCC: eh_ptr
    body.uleb();                                                    // code alignment
    body.sleb();                                                    // data alignment
    if (version == 1) body.fixed<std::uint8_t>();                   // return address register
    else body.uleb();
    if (!body.ok()) return std::unexpected(malformed(offset, "CIE header truncated"));
    Cie cie;
    if (!augmentation.starts_with('z')) return cie; // no augmentation data: absptr FDEs
    cie.has_augmentation_data = true;
    std::uint64_t data_length = body.uleb();
    std::uint64_t data_end = body.pos() + data_length;
    if (!body.ok() || data_end > end) return std::unexpected(malformed(offset, "CIE augmentation data truncated"));
    for (char c : augmentation.substr(1)) {
        if (c == 'R') {
            cie.fde_encoding = body.fixed<std::uint8_t>();
        } else if (c == 'L') {
            cie.lsda_encoding = body.fixed<std::uint8_t>();
        } else if (c == 'P') {
            std::uint8_t encoding = body.fixed<std::uint8_t>();
            // The personality pointer is not needed; read it only to step over it.
            auto skipped = read_encoded(body, static_cast<std::uint8_t>(encoding & 0x0f), section_vaddr, bases, true, offset);
            if (!skipped) return std::unexpected(std::move(skipped.error()));
        } else if (c != 'S' && c != 'B' && c != 'G') {
            break; // unknown: the length lets us skip the rest
        }
    }
    if (!body.ok()) return std::unexpected(malformed(offset, "CIE augmentation data truncated"));
    return cie;
}

} // namespace

Expected<std::vector<FunctionRange>> parse_eh_frame(Bytes section, std::uint64_t section_vaddr, EhFrameBases bases) {
    std::vector<FunctionRange> out;
    std::unordered_map<std::uint64_t, Cie> cies;
    std::uint64_t offset = 0;
    while (section.size() - offset >= 4) {
        Cursor in(section, offset, section.size());
        std::uint64_t length = in.fixed<std::uint32_t>();
        if (length == 0) break; // terminator
        bool wide = length == 0xffffffff;
        if (wide) length = in.fixed<std::uint64_t>();
        if (!in.ok() || length > section.size() - in.pos())
            return std::unexpected(malformed(offset, "length beyond the section"));
        std::uint64_t body_start = in.pos();
        std::uint64_t end = body_start + length;
        Cursor body(section, body_start, end);
        std::uint64_t id = wide ? body.fixed<std::uint64_t>() : body.fixed<std::uint32_t>();
        if (!body.ok()) return std::unexpected(malformed(offset, "record too short"));
        if (id != 0) {
            // An FDE: the id is the distance back from this field to its CIE.
            if (id > body_start) return std::unexpected(malformed(offset, "CIE pointer before the section"));
            std::uint64_t cie_offset = body_start - id;
            auto found = cies.find(cie_offset);
            if (found == cies.end()) {
                auto cie = parse_cie(section, cie_offset, section_vaddr, bases);
                if (!cie) return std::unexpected(std::move(cie.error()));
                found = cies.emplace(cie_offset, *cie).first;
            }
            std::uint8_t encoding = found->second.fde_encoding;
            if (encoding == pe_omit || (encoding & pe_indirect))
                return std::unexpected(malformed(offset, "FDE start cannot be encoded as " + procscope::to_hex(encoding)));
            auto start = read_encoded(body, encoding, section_vaddr, bases, false, offset);
            if (!start) return std::unexpected(std::move(start.error()));
            auto size = read_encoded(body, static_cast<std::uint8_t>(encoding & 0x0f), section_vaddr, bases, true, offset);
            if (!size) return std::unexpected(std::move(size.error()));
            std::uint64_t lsda = 0;
            if (found->second.has_augmentation_data) {
                std::uint64_t data_length = body.uleb();
                std::uint64_t data_end = body.pos() + data_length;
                if (!body.ok() || data_end > end) return std::unexpected(malformed(offset, "FDE augmentation data truncated"));
                std::uint8_t lsda_encoding = found->second.lsda_encoding;
                // An indirect LSDA pointer would need the data it points through: left out.
                if (lsda_encoding != pe_omit && !(lsda_encoding & pe_indirect) && data_length > 0) {
                    auto pointer = read_encoded(body, lsda_encoding, section_vaddr, bases, false, offset);
                    if (!pointer) return std::unexpected(std::move(pointer.error()));
                    lsda = *pointer;
                }
            }
            if (*start != 0 && *size != 0) out.push_back({*start, *size, lsda});
        }
        offset = end;
    }
    return out;
}

Expected<std::vector<std::uint64_t>> parse_lsda_landing_pads(Bytes bytes, std::uint64_t bytes_vaddr, std::uint64_t lsda_vaddr,
                                                             std::uint64_t function_start) {
    if (lsda_vaddr < bytes_vaddr || lsda_vaddr - bytes_vaddr >= bytes.size())
        return procscope::make_error(ErrorCode::malformed, "LSDA at " + procscope::to_hex(lsda_vaddr) + " outside its section");
    auto bad = [&](std::string_view what) {
        return procscope::Error{ErrorCode::malformed, "LSDA at " + procscope::to_hex(lsda_vaddr) + ": " + std::string(what)};
    };
    Cursor in(bytes, lsda_vaddr - bytes_vaddr, bytes.size());
    std::uint64_t record = lsda_vaddr;
    // Header: where landing pads count from, the type table (skipped), the call-site table.
    std::uint64_t landing_base = function_start;
    std::uint8_t lpstart_encoding = in.fixed<std::uint8_t>();
    if (in.ok() && lpstart_encoding != pe_omit) {
        auto base = read_encoded(in, lpstart_encoding, bytes_vaddr, {}, false, record);
        if (!base) return std::unexpected(bad(base.error().message));
        landing_base = *base;
    }
    std::uint8_t ttype_encoding = in.fixed<std::uint8_t>();
    if (in.ok() && ttype_encoding != pe_omit) in.uleb();
    std::uint8_t call_site_encoding = in.fixed<std::uint8_t>();
    std::uint64_t table_length = in.uleb();
    if (!in.ok() || table_length > bytes.size() - in.pos()) return std::unexpected(bad("call-site table truncated"));
    Cursor table(bytes, in.pos(), in.pos() + table_length);
    std::vector<std::uint64_t> pads;
    while (table.ok() && table.pos() < in.pos() + table_length) {
        // start, length and landing pad are offsets: read as values, not applied as pointers.
        auto start = read_encoded(table, static_cast<std::uint8_t>(call_site_encoding & 0x0f), bytes_vaddr, {}, true, record);
        auto length = start ? read_encoded(table, static_cast<std::uint8_t>(call_site_encoding & 0x0f), bytes_vaddr, {}, true, record)
                            : start;
        auto pad = length ? read_encoded(table, static_cast<std::uint8_t>(call_site_encoding & 0x0f), bytes_vaddr, {}, true, record)
                          : length;
        if (!pad) return std::unexpected(bad("call-site record truncated"));
        table.uleb(); // action
        if (!table.ok()) return std::unexpected(bad("call-site record truncated"));
        if (*pad != 0) pads.push_back(landing_base + *pad);
    }
    std::ranges::sort(pads);
    pads.erase(std::unique(pads.begin(), pads.end()), pads.end());
    return pads;
}

Expected<EhFrameLocation> locate_eh_frame(const objfile::ElfFile& elf) {
    if (auto section = elf.find_section(".eh_frame"); section && section->type != procscope::elf::sht_nobits) {
        auto bytes = elf.section_contents(*section);
        if (!bytes) return std::unexpected(std::move(bytes.error()));
        return EhFrameLocation{*bytes, section->addr};
    }
    // No section headers (sstrip): .eh_frame_hdr's eh_frame_ptr says where .eh_frame is.
    for (const auto& header : elf.program_headers()) {
        if (header.type != procscope::elf::pt_gnu_eh_frame) continue;
        auto hdr = elf.segment_contents(header);
        if (!hdr) return std::unexpected(std::move(hdr.error()));
        Cursor in(*hdr, 0, hdr->size());
        std::uint8_t version = in.fixed<std::uint8_t>();
        std::uint8_t ptr_encoding = in.fixed<std::uint8_t>();
        in.fixed<std::uint16_t>(); // fde_count and table encodings
        if (!in.ok() || version != 1) return procscope::make_error(ErrorCode::malformed, elf.name() + ": bad .eh_frame_hdr");
        EhFrameBases bases{0, header.vaddr};
        auto target = read_encoded(in, ptr_encoding, header.vaddr, bases, false, 0);
        if (!target) return std::unexpected(std::move(target.error()));
        for (const auto& load : elf.program_headers()) {
            if (load.type != procscope::elf::pt_load || *target < load.vaddr || *target >= load.vaddr + load.filesz) continue;
            std::uint64_t file_offset = load.offset + (*target - load.vaddr);
            std::uint64_t size = load.filesz - (*target - load.vaddr);
            auto bytes = procscope::slice(elf.bytes(), file_offset, size);
            if (!bytes) return procscope::make_error(ErrorCode::truncated, elf.name() + ": .eh_frame beyond the file");
            return EhFrameLocation{*bytes, *target};
        }
        return procscope::make_error(ErrorCode::malformed, elf.name() + ": eh_frame_ptr outside every segment");
    }
    return procscope::make_error(ErrorCode::not_found, elf.name() + ": no .eh_frame");
}

} // namespace instrument
