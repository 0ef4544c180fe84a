// ElfAddressIndex: function and object symbols sorted by start address.
#include "objfile/elf_symbolizer.hpp"

#include <algorithm>

#include "elf/elf_decode.hpp"
#include "elf/elf_file_state.hpp"

namespace objfile {

using procscope::ErrorCode;
using procscope::Expected;
namespace elf = procscope::elf;

namespace {

struct Candidate {
    std::uint64_t address;
    std::uint64_t size;
    std::uint32_t index;
    bool from_dynamic;
    std::uint8_t rank; // lower wins among symbols starting at one address
};

bool is_code_or_data(const ElfSymbol& symbol) {
    switch (symbol.type) {
    case ElfSymbolType::func:
    case ElfSymbolType::gnu_ifunc:
    case ElfSymbolType::object: break;
    default: return false;
    }
    // Absolute and common symbols have no address in a section.
    return symbol.is_defined() && symbol.section_index != elf::shn_abs && symbol.section_index != elf::shn_common;
}

std::uint8_t rank_of(const ElfSymbol& symbol, bool from_dynamic) {
    std::uint8_t binding = symbol.binding == ElfSymbolBinding::global || symbol.binding == ElfSymbolBinding::gnu_unique ? 0
                           : symbol.binding == ElfSymbolBinding::weak                                                  ? 1
                                                                                                                       : 2;
    // A size is the best evidence that a symbol names what is there; then binding, then .dynsym.
    return static_cast<std::uint8_t>((symbol.size == 0 ? 8 : 0) + binding * 2 + (from_dynamic ? 0 : 1));
}

Expected<void> collect(const ElfSymbolTable& table, bool from_dynamic, std::vector<Candidate>& out) {
    out.reserve(out.size() + table.size());
    for (std::uint32_t i = 1; i < table.size(); ++i) {
        // Decoding validates the name and version, so symbolize() can decode without failing.
        auto symbol = table.symbol(i);
        if (!symbol) return std::unexpected(std::move(symbol.error()));
        if (!is_code_or_data(*symbol)) continue;
        out.push_back({symbol->value, symbol->size, i, from_dynamic, rank_of(*symbol, from_dynamic)});
    }
    return {};
}

// A table that is absent is fine; one that is broken is an error.
Expected<std::optional<ElfSymbolTable>> optional_table(Expected<ElfSymbolTable> table) {
    if (table) return std::optional<ElfSymbolTable>(std::move(*table));
    if (table.error().code == ErrorCode::not_found) return std::optional<ElfSymbolTable>();
    return std::unexpected(std::move(table.error()));
}

// Nested symbols (a small one inside a larger one) are rare; a short look back finds the
// enclosing one without a second structure.
constexpr std::size_t nesting_look_back = 4;

} // namespace

Expected<ElfAddressIndex> ElfAddressIndex::build(const ElfFile& file) {
    ElfAddressIndex index;
    auto dynamic = optional_table(file.dynamic_symbols());
    if (!dynamic) return std::unexpected(std::move(dynamic.error()));
    auto static_table = optional_table(file.static_symbols());
    if (!static_table) return std::unexpected(std::move(static_table.error()));
    index.dynamic_ = std::move(*dynamic);
    index.static_ = std::move(*static_table);

    std::vector<Candidate> candidates;
    if (index.dynamic_) {
        auto added = collect(*index.dynamic_, true, candidates);
        if (!added) return std::unexpected(std::move(added.error()));
    }
    if (index.static_) {
        auto added = collect(*index.static_, false, candidates);
        if (!added) return std::unexpected(std::move(added.error()));
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (a.address != b.address) return a.address < b.address;
        if (a.rank != b.rank) return a.rank < b.rank;
        return a.index < b.index;
    });
    index.starts_.reserve(candidates.size());
    index.entries_.reserve(candidates.size());
    for (const Candidate& candidate : candidates) {
        if (!index.starts_.empty() && index.starts_.back() == candidate.address) {
            // Versions of one object can differ in size (_sys_errlist@GLIBC_2.3 / @GLIBC_2.4):
            // the kept name covers the largest.
            index.entries_.back().size = std::max(index.entries_.back().size, candidate.size);
            continue;
        }
        index.starts_.push_back(candidate.address);
        index.entries_.push_back({candidate.size, candidate.index, candidate.from_dynamic});
    }
    return index;
}

ElfSymbol ElfAddressIndex::decode(const Entry& entry) const {
    const ElfSymbolTable& table = entry.from_dynamic ? *dynamic_ : *static_;
    auto symbol = table.symbol(entry.index);
    return symbol ? *symbol : ElfSymbol{}; // build() decoded every entry once already
}

std::optional<ElfSymbolization> ElfAddressIndex::symbolize(std::uint64_t address) const {
    const auto after = std::upper_bound(starts_.begin(), starts_.end(), address);
    if (after == starts_.begin()) return std::nullopt;
    const std::size_t found = static_cast<std::size_t>(after - starts_.begin()) - 1;
    for (std::size_t back = 0; back < nesting_look_back && back <= found; ++back) {
        const std::size_t at = found - back;
        const Entry& entry = entries_[at];
        const std::uint64_t offset = address - starts_[at];
        const bool covers = entry.size != 0 ? offset < entry.size
                                            // Unsized: up to the next symbol, or only its own address at the end.
                                            : (back == 0 && (at + 1 < starts_.size() || offset == 0));
        if (covers) return ElfSymbolization{decode(entry), offset};
    }
    return std::nullopt;
}

Expected<std::shared_ptr<const ElfAddressIndex>> ElfFile::address_index() const {
    std::call_once(state_->address_once, [&] {
        auto built = ElfAddressIndex::build(*this);
        if (built)
            state_->address_index = std::shared_ptr<const ElfAddressIndex>(
                std::make_shared<ElfAddressIndex>(std::move(*built)));
        else
            state_->address_index = std::unexpected(std::move(built.error()));
    });
    return *state_->address_index;
}

Expected<ElfSymbolization> ElfFile::symbolize(std::uint64_t address) const {
    auto index = address_index();
    if (!index) return std::unexpected(std::move(index.error()));
    auto found = (*index)->symbolize(address);
    if (!found)
        return std::unexpected(elf_detail::error_at(ErrorCode::not_found, name(), "",
                                                    "no symbol covers address " + elf_detail::hex(address)));
    return *found;
}

} // namespace objfile
