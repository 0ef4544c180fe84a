#include "macho_test_image.hpp"

#include <bit>
#include <cstring>

namespace macho_test {

namespace mo = objfile::macho;

namespace {

class Writer {
public:
    explicit Writer(bool big_endian) : big_endian_(big_endian) {}

    template <class T>
    void put(T value) {
        if (big_endian_ == (std::endian::native == std::endian::little)) value = std::byteswap(value);
        std::byte raw[sizeof(T)];
        std::memcpy(raw, &value, sizeof(T));
        bytes.insert(bytes.end(), raw, raw + sizeof(T));
    }
    void name16(const std::string& name) {
        std::byte raw[16] = {};
        std::memcpy(raw, name.data(), std::min<std::size_t>(16, name.size()));
        bytes.insert(bytes.end(), raw, raw + 16);
    }
    void raw(const ByteVector& more) { bytes.insert(bytes.end(), more.begin(), more.end()); }
    void pad_to(std::size_t alignment) {
        while (bytes.size() % alignment != 0) bytes.push_back(std::byte{0});
    }

    ByteVector bytes;

private:
    bool big_endian_;
};

} // namespace

ByteVector to_bytes(std::span<const std::uint8_t> bytes) {
    ByteVector out(bytes.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}
ByteVector to_bytes(std::initializer_list<std::uint8_t> bytes) {
    return to_bytes(std::span<const std::uint8_t>(bytes.begin(), bytes.size()));
}

ImageBuilder::ImageBuilder(bool is_64bit, std::int32_t cputype, std::uint32_t filetype)
    : is_64bit_(is_64bit), cputype_(cputype), filetype_(filetype) {}

ImageBuilder& ImageBuilder::big_endian(bool on) { big_endian_ = on; return *this; }
ImageBuilder& ImageBuilder::auto_segments(bool on) { auto_segments_ = on; return *this; }
ImageBuilder& ImageBuilder::text_vmaddr(std::uint64_t vmaddr) { text_vmaddr_ = vmaddr; return *this; }
ImageBuilder& ImageBuilder::ncmds_override(std::uint32_t ncmds) { ncmds_override_ = ncmds; return *this; }
ImageBuilder& ImageBuilder::sizeofcmds_override(std::uint32_t size) { sizeofcmds_override_ = size; return *this; }

ImageBuilder& ImageBuilder::segment(std::string name, std::uint64_t vmaddr, std::uint64_t vmsize, std::uint64_t fileoff,
                                    std::uint64_t filesize, std::vector<TestSection> sections) {
    Writer w(big_endian_);
    w.name16(name);
    if (is_64bit_) {
        w.put<std::uint64_t>(vmaddr), w.put<std::uint64_t>(vmsize), w.put<std::uint64_t>(fileoff),
            w.put<std::uint64_t>(filesize);
    } else {
        w.put(static_cast<std::uint32_t>(vmaddr)), w.put(static_cast<std::uint32_t>(vmsize)),
            w.put(static_cast<std::uint32_t>(fileoff)), w.put(static_cast<std::uint32_t>(filesize));
    }
    w.put<std::int32_t>(5), w.put<std::int32_t>(5);  // r-x
    w.put(static_cast<std::uint32_t>(sections.size())), w.put<std::uint32_t>(0);
    for (const TestSection& s : sections) {
        w.name16(s.name);
        w.name16(name);
        if (is_64bit_) w.put<std::uint64_t>(s.addr), w.put<std::uint64_t>(s.size);
        else w.put(static_cast<std::uint32_t>(s.addr)), w.put(static_cast<std::uint32_t>(s.size));
        w.put(s.offset), w.put<std::uint32_t>(2), w.put<std::uint32_t>(0), w.put<std::uint32_t>(0), w.put(s.flags);
        w.put<std::uint32_t>(0), w.put<std::uint32_t>(0);
        if (is_64bit_) w.put<std::uint32_t>(0);
    }
    commands_.push_back(Command{is_64bit_ ? mo::lc_segment_64 : mo::lc_segment, w.bytes, {}, -1});
    return *this;
}

ImageBuilder& ImageBuilder::dylib(std::uint32_t cmd, std::string name) {
    Writer w(big_endian_);
    w.put<std::uint32_t>(24), w.put<std::uint32_t>(2), w.put<std::uint32_t>(0x10000), w.put<std::uint32_t>(0x10000);
    for (char c : name) w.bytes.push_back(static_cast<std::byte>(c));
    w.bytes.push_back(std::byte{0});
    w.pad_to(8);
    commands_.push_back(Command{cmd, w.bytes, {}, -1});
    return *this;
}

ImageBuilder& ImageBuilder::uuid(std::uint8_t fill) {
    ByteVector body(16);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::byte>(fill + i);
    commands_.push_back(Command{mo::lc_uuid, body, {}, -1});
    return *this;
}

ImageBuilder& ImageBuilder::main_entry(std::uint64_t entryoff) {
    Writer w(big_endian_);
    w.put(entryoff), w.put<std::uint64_t>(0);
    commands_.push_back(Command{mo::lc_main, w.bytes, {}, -1});
    return *this;
}

ImageBuilder& ImageBuilder::build_version(std::uint32_t platform, std::uint32_t minos, std::uint32_t sdk) {
    Writer w(big_endian_);
    w.put(platform), w.put(minos), w.put(sdk), w.put<std::uint32_t>(0);
    commands_.push_back(Command{mo::lc_build_version, w.bytes, {}, -1});
    return *this;
}

ImageBuilder& ImageBuilder::symbols(std::vector<TestSymbol> symbols) {
    symbols_ = std::move(symbols);
    has_symtab_ = true;
    return *this;
}

ImageBuilder& ImageBuilder::dysymtab(std::uint32_t ilocal, std::uint32_t nlocal, std::uint32_t iextdef,
                                     std::uint32_t nextdef, std::uint32_t iundef, std::uint32_t nundef) {
    Writer w(big_endian_);
    for (std::uint32_t v : {ilocal, nlocal, iextdef, nextdef, iundef, nundef}) w.put(v);
    for (int i = 0; i < 12; ++i) w.put<std::uint32_t>(0);
    dysymtab_ = w.bytes;
    return *this;
}

ImageBuilder& ImageBuilder::exports_trie(std::vector<std::uint8_t> trie, bool in_dyld_info) {
    trie_ = to_bytes(trie);
    trie_in_dyld_info_ = in_dyld_info;
    return *this;
}

ImageBuilder& ImageBuilder::function_starts(std::vector<std::uint8_t> uleb_deltas) {
    function_starts_ = to_bytes(uleb_deltas);
    return *this;
}

ImageBuilder& ImageBuilder::raw_command(std::uint32_t cmd, ByteVector body, std::optional<std::uint32_t> cmdsize) {
    commands_.push_back(Command{cmd, std::move(body), cmdsize, -1});
    return *this;
}

ByteVector ImageBuilder::build() const {
    const std::size_t header_size = is_64bit_ ? 32 : 28;
    const std::size_t nlist_size = is_64bit_ ? 16 : 12;

    // LINKEDIT blobs: symbols, strings, trie, function starts.
    ByteVector strings{std::byte{' '}, std::byte{0}};
    Writer nlists(big_endian_);
    for (const TestSymbol& s : symbols_) {
        nlists.put(static_cast<std::uint32_t>(strings.size()));
        for (char c : s.name) strings.push_back(static_cast<std::byte>(c));
        strings.push_back(std::byte{0});
        nlists.put(s.type), nlists.put(s.sect), nlists.put(s.desc);
        if (is_64bit_) nlists.put(s.value);
        else nlists.put(static_cast<std::uint32_t>(s.value));
    }
    while (strings.size() % 8 != 0) strings.push_back(std::byte{0});

    std::vector<Command> commands = commands_;
    // Commands whose body depends on the LINKEDIT layout get placeholders now, real values below.
    std::vector<ByteVector> blobs;
    auto add_blob_command = [&](std::uint32_t cmd, std::size_t body_size, ByteVector blob) {
        commands.push_back(Command{cmd, ByteVector(body_size), {}, static_cast<int>(blobs.size())});
        blobs.push_back(std::move(blob));
    };
    if (has_symtab_) {
        ByteVector both = nlists.bytes;
        both.insert(both.end(), strings.begin(), strings.end());
        add_blob_command(mo::lc_symtab, 16, both);
    }
    if (dysymtab_) commands.push_back(Command{mo::lc_dysymtab, *dysymtab_, {}, -1});
    if (trie_) {
        if (trie_in_dyld_info_) add_blob_command(mo::lc_dyld_info_only, 40, *trie_);
        else add_blob_command(mo::lc_dyld_exports_trie, 8, *trie_);
    }
    if (function_starts_) add_blob_command(mo::lc_function_starts, 8, *function_starts_);

    std::size_t segment_command_size = is_64bit_ ? 72 : 56;
    std::size_t sizeofcmds = auto_segments_ ? 2 * segment_command_size : 0;
    // Layout follows the bytes written; a cmdsize override only changes the recorded field.
    for (const Command& c : commands) sizeofcmds += 8 + c.body.size();
    std::size_t linkedit_start = (header_size + sizeofcmds + 15) & ~std::size_t{15};
    std::vector<std::size_t> blob_offsets;
    std::size_t linkedit_end = linkedit_start;
    for (const ByteVector& blob : blobs) {
        blob_offsets.push_back(linkedit_end);
        linkedit_end += (blob.size() + 7) & ~std::size_t{7};
    }

    ImageBuilder with_segments = *this;  // reuse segment() to encode the automatic segments
    with_segments.commands_.clear();
    if (auto_segments_) {
        with_segments.segment("__TEXT", text_vmaddr_, 0x4000, 0, linkedit_start);
        with_segments.segment("__LINKEDIT", text_vmaddr_ + 0x4000, 0x4000, linkedit_start,
                              linkedit_end - linkedit_start);
    }
    for (Command& c : commands) {
        if (c.linkedit_blob < 0) continue;
        Writer w(big_endian_);
        const auto offset = static_cast<std::uint32_t>(blob_offsets[static_cast<std::size_t>(c.linkedit_blob)]);
        const ByteVector& blob = blobs[static_cast<std::size_t>(c.linkedit_blob)];
        if (c.cmd == mo::lc_symtab) {
            const auto symbols_size = static_cast<std::uint32_t>(symbols_.size() * nlist_size);
            w.put(offset), w.put(static_cast<std::uint32_t>(symbols_.size())), w.put(offset + symbols_size),
                w.put(static_cast<std::uint32_t>(strings.size()));
        } else if (c.cmd == mo::lc_dyld_info_only) {
            for (int i = 0; i < 8; ++i) w.put<std::uint32_t>(0);
            w.put(offset), w.put(static_cast<std::uint32_t>(blob.size()));
        } else {
            w.put(offset), w.put(static_cast<std::uint32_t>(blob.size()));
        }
        c.body = w.bytes;
    }
    commands.insert(commands.begin(), with_segments.commands_.begin(), with_segments.commands_.end());

    Writer out(big_endian_);
    out.put(is_64bit_ ? mo::mh_magic_64 : mo::mh_magic);
    out.put(cputype_), out.put<std::int32_t>(0), out.put(filetype_);
    out.put(ncmds_override_.value_or(static_cast<std::uint32_t>(commands.size())));
    out.put(sizeofcmds_override_.value_or(static_cast<std::uint32_t>(sizeofcmds)));
    out.put<std::uint32_t>(mo::mh_twolevel);
    if (is_64bit_) out.put<std::uint32_t>(0);
    for (const Command& c : commands) {
        out.put(c.cmd);
        out.put(c.cmdsize.value_or(static_cast<std::uint32_t>(8 + c.body.size())));
        out.raw(c.body);
    }
    out.bytes.resize(linkedit_start, std::byte{0});
    for (std::size_t i = 0; i < blobs.size(); ++i) {
        out.bytes.resize(blob_offsets[i], std::byte{0});
        out.raw(blobs[i]);
    }
    out.bytes.resize(linkedit_end, std::byte{0});
    return out.bytes;
}

std::vector<std::uint8_t> uleb(std::uint64_t value) {
    std::vector<std::uint8_t> out;
    do {
        std::uint8_t byte = value & 0x7f;
        value >>= 7;
        if (value != 0) byte |= 0x80;
        out.push_back(byte);
    } while (value != 0);
    return out;
}

std::vector<std::uint8_t> regular_terminal(std::uint64_t flags, std::uint64_t address) {
    auto out = uleb(flags);
    auto more = uleb(address);
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

std::vector<std::uint8_t> reexport_terminal(std::uint64_t ordinal, const std::string& imported_name,
                                            std::uint64_t extra_flags) {
    auto out = uleb(mo::export_symbol_flags_reexport | extra_flags);
    auto more = uleb(ordinal);
    out.insert(out.end(), more.begin(), more.end());
    out.insert(out.end(), imported_name.begin(), imported_name.end());
    out.push_back(0);
    return out;
}

std::vector<std::uint8_t> resolver_terminal(std::uint64_t address, std::uint64_t resolver) {
    auto out = regular_terminal(mo::export_symbol_flags_stub_and_resolver, address);
    auto more = uleb(resolver);
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

std::vector<std::uint8_t> assemble_trie(const std::vector<TrieNode>& nodes) {
    auto node_size = [](const TrieNode& node) {
        std::size_t size = uleb(node.terminal.size()).size() + node.terminal.size() + 1;
        for (const auto& edge : node.edges) size += edge.first.size() + 1 + 3;
        return size;
    };
    std::vector<std::size_t> offsets;
    std::size_t offset = 0;
    for (const TrieNode& node : nodes) {
        offsets.push_back(offset);
        offset += node_size(node);
    }
    std::vector<std::uint8_t> out;
    for (const TrieNode& node : nodes) {
        auto size = uleb(node.terminal.size());
        out.insert(out.end(), size.begin(), size.end());
        out.insert(out.end(), node.terminal.begin(), node.terminal.end());
        out.push_back(static_cast<std::uint8_t>(node.edges.size()));
        for (const auto& [label, child] : node.edges) {
            out.insert(out.end(), label.begin(), label.end());
            out.push_back(0);
            const std::size_t target = offsets[static_cast<std::size_t>(child)];
            out.push_back(static_cast<std::uint8_t>(0x80 | (target & 0x7f)));
            out.push_back(static_cast<std::uint8_t>(0x80 | ((target >> 7) & 0x7f)));
            out.push_back(static_cast<std::uint8_t>(target >> 14));
        }
    }
    return out;
}

ByteVector build_fat(const std::vector<std::pair<std::pair<std::int32_t, std::int32_t>, ByteVector>>& slices,
                     bool fat64, std::uint32_t align) {
    Writer out(true);  // fat headers are big-endian
    out.put(fat64 ? mo::fat_magic_64 : mo::fat_magic);
    out.put(static_cast<std::uint32_t>(slices.size()));
    const std::size_t alignment = std::size_t{1} << align;
    std::size_t offset = 8 + slices.size() * (fat64 ? 32 : 20);
    std::vector<std::size_t> offsets;
    for (const auto& slice : slices) {
        offset = (offset + alignment - 1) & ~(alignment - 1);
        offsets.push_back(offset);
        offset += slice.second.size();
    }
    for (std::size_t i = 0; i < slices.size(); ++i) {
        out.put(slices[i].first.first), out.put(slices[i].first.second);
        if (fat64) {
            out.put<std::uint64_t>(offsets[i]), out.put<std::uint64_t>(slices[i].second.size());
            out.put(align), out.put<std::uint32_t>(0);
        } else {
            out.put(static_cast<std::uint32_t>(offsets[i])), out.put(static_cast<std::uint32_t>(slices[i].second.size()));
            out.put(align);
        }
    }
    for (std::size_t i = 0; i < slices.size(); ++i) {
        out.bytes.resize(offsets[i], std::byte{0});
        out.raw(slices[i].second);
    }
    return out.bytes;
}

} // namespace macho_test
