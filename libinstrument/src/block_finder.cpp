#include "instrument/block_finder.hpp"

#include <Zydis/Zydis.h>
#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "instrument/eh_frame.hpp"
#include "objfile/elf_symbols.hpp"
#include "procscope/elf_types.hpp"

namespace instrument {

namespace {

using procscope::Expected;

// Per-byte facts about the code, one byte each: 1.5 MB of libc text needs 1.5 MB here.
enum : std::uint8_t {
    length_mask = 0x0f, // instruction length at a start byte
    ends_block = 0x10,  // the instruction at this start is a branch, call or return
    leader = 0x20,      // a block starts here
    start = 0x40,       // an instruction starts here
    interior = 0x80,    // some decoded instruction covers this byte (not as its first)
};

struct CodeRange {
    std::uint64_t vaddr;
    procscope::Bytes bytes;
    std::vector<std::uint8_t> facts;
};

struct Task {
    std::uint64_t address;
    std::uint64_t limit;
};

class Decoder {
public:
    explicit Decoder(std::vector<CodeRange> ranges) : ranges_(std::move(ranges)) {
        ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
        // Length, mnemonic, category and raw immediates are all this needs: no operands.
        ZydisDecoderEnableMode(&decoder_, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
    }

    void set_functions(std::vector<FunctionRange> functions) { functions_ = std::move(functions); }

    // A start inside the padding before it is moved to where the padding ends. glibc starts
    // the FDE of __restore_rt one byte early (for unwinders that look up pc - 1), which on
    // Debian is the last byte of a multi-byte nop: decoding from there would be nonsense.
    std::uint64_t start_after_padding(std::uint64_t previous_end, std::uint64_t start) {
        CodeRange* range = range_of(previous_end);
        if (!range || range != range_of(start) || previous_end >= start || start - previous_end > 64) return start;
        std::uint64_t at = previous_end;
        while (at < start) {
            std::size_t offset = static_cast<std::size_t>(at - range->vaddr);
            ZydisDecodedInstruction insn;
            std::size_t available = std::min<std::size_t>(range->bytes.size() - offset, ZYDIS_MAX_INSTRUCTION_LENGTH);
            if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder_, nullptr, range->bytes.data() + offset, available, &insn)))
                return start;
            if (insn.mnemonic != ZYDIS_MNEMONIC_NOP && insn.mnemonic != ZYDIS_MNEMONIC_INT3) return start;
            at += insn.length;
        }
        return at; // == start when the padding ends there, past it when start is inside a nop
    }

    void add_function_start(std::uint64_t address) {
        CodeRange* range = range_of(address);
        if (!range) return;
        range->facts[address - range->vaddr] |= leader;
        tasks_.push_back({address, limit_for(address, *range)});
    }

    void run() {
        while (!tasks_.empty()) {
            Task task = tasks_.back();
            tasks_.pop_back();
            decode_from(task);
        }
    }

    BlockList blocks() const;
    BlockFinderStats stats;

private:
    CodeRange* range_of(std::uint64_t address) {
        for (CodeRange& range : ranges_)
            if (address >= range.vaddr && address - range.vaddr < range.bytes.size()) return &range;
        return nullptr;
    }

    // Decoding from a function start stops at the function's end (its FDE or symbol size).
    std::uint64_t limit_for(std::uint64_t address, const CodeRange& range) const {
        auto it = std::upper_bound(functions_.begin(), functions_.end(), address,
                                   [](std::uint64_t a, const FunctionRange& f) { return a < f.start; });
        std::uint64_t range_end = range.vaddr + range.bytes.size();
        if (it != functions_.begin()) {
            const FunctionRange& f = *std::prev(it);
            if (address < f.start + f.size) return std::min(range_end, f.start + f.size);
        }
        return range_end;
    }

    void branch_to(std::uint64_t target) {
        CodeRange* range = range_of(target);
        if (!range) return; // outside this module's code (or into a PLT-less hole)
        std::uint8_t& facts = range->facts[target - range->vaddr];
        bool known = facts & leader;
        facts |= leader;
        if (!known) tasks_.push_back({target, limit_for(target, *range)});
    }

    void decode_from(Task task);

    std::vector<CodeRange> ranges_;
    std::vector<FunctionRange> functions_; // sorted by start
    std::vector<Task> tasks_;
    ZydisDecoder decoder_{};
};

void Decoder::decode_from(Task task) {
    CodeRange* range = range_of(task.address);
    if (!range) return;
    std::uint64_t address = task.address;
    while (address < task.limit) {
        std::size_t at = static_cast<std::size_t>(address - range->vaddr);
        if (range->facts[at] & start) return; // decoded before: the paths have merged
        ZydisDecodedInstruction insn;
        std::size_t available = std::min<std::size_t>(range->bytes.size() - at, ZYDIS_MAX_INSTRUCTION_LENGTH);
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder_, nullptr, range->bytes.data() + at, available, &insn))) {
            ++stats.undecodable;
            return;
        }
        ++stats.instructions;
        std::uint8_t length = insn.length;
        std::uint8_t& facts = range->facts[at];
        facts = static_cast<std::uint8_t>((facts & (leader | interior)) | start | length);
        for (std::size_t i = 1; i < length && at + i < range->facts.size(); ++i) range->facts[at + i] |= interior;
        std::uint64_t next = address + length;
        bool relative = insn.attributes & ZYDIS_ATTRIB_IS_RELATIVE;
        std::uint64_t target = next + static_cast<std::uint64_t>(insn.raw.imm[0].value.s);
        switch (insn.meta.category) {
        case ZYDIS_CATEGORY_UNCOND_BR:
            facts |= ends_block;
            if (relative) branch_to(target);
            return;
        case ZYDIS_CATEGORY_COND_BR:
            facts |= ends_block;
            if (relative) branch_to(target);
            branch_to(next);
            break;
        case ZYDIS_CATEGORY_CALL:
            facts |= ends_block;
            if (relative) branch_to(target);
            branch_to(next);
            break;
        case ZYDIS_CATEGORY_RET:
            facts |= ends_block;
            return;
        default:
            switch (insn.mnemonic) {
            case ZYDIS_MNEMONIC_HLT:
            case ZYDIS_MNEMONIC_UD0:
            case ZYDIS_MNEMONIC_UD1:
            case ZYDIS_MNEMONIC_UD2:
            case ZYDIS_MNEMONIC_INT3:
            case ZYDIS_MNEMONIC_IRET:
            case ZYDIS_MNEMONIC_IRETD:
            case ZYDIS_MNEMONIC_IRETQ:
            case ZYDIS_MNEMONIC_SYSRET:
            case ZYDIS_MNEMONIC_SYSEXIT:
                facts |= ends_block;
                return;
            default: break;
            }
        }
        address = next;
    }
}

BlockList Decoder::blocks() const {
    BlockList out;
    for (const CodeRange& range : ranges_) {
        const auto& facts = range.facts;
        for (std::size_t i = 0; i < facts.size(); ++i) {
            std::uint8_t f = facts[i];
            if (!(f & leader) || !(f & start)) continue;
            // Inside another instruction, or overlapping the start of another (glibc starts the
            // FDE of __restore_rt one byte early, inside the padding before it): one of the two
            // decodings is wrong, and an int3 here could corrupt the right one.
            bool overlaps = false;
            for (std::size_t k = 1; k < (f & length_mask) && i + k < facts.size(); ++k)
                overlaps |= (facts[i + k] & start) != 0;
            if ((f & interior) || overlaps) {
                ++out.stats.conflicts;
                continue;
            }
            // Walk to the end of the block: a branch, the next leader, or undecoded bytes.
            std::size_t at = i;
            for (;;) {
                std::uint8_t g = facts[at];
                if (!(g & start)) break;
                at += g & length_mask;
                if ((g & ends_block) || at >= facts.size() || (facts[at] & leader)) break;
            }
            if (at == i) continue;
            out.starts.push_back(range.vaddr + i);
            out.sizes.push_back(static_cast<std::uint32_t>(std::min<std::size_t>(at - i, 0xffffffffu)));
        }
    }
    // Ranges come from sections, which may be listed out of address order.
    if (!std::ranges::is_sorted(out.starts)) {
        std::vector<std::size_t> order(out.starts.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::ranges::sort(order, {}, [&](std::size_t i) { return out.starts[i]; });
        BlockList sorted;
        for (std::size_t i : order) {
            sorted.starts.push_back(out.starts[i]);
            sorted.sizes.push_back(out.sizes[i]);
        }
        out.starts = std::move(sorted.starts);
        out.sizes = std::move(sorted.sizes);
    }
    return out;
}

Expected<std::vector<CodeRange>> code_ranges(const objfile::ElfFile& elf) {
    std::vector<CodeRange> ranges;
    for (const auto& section : elf.sections()) {
        if (section.type != procscope::elf::sht_progbits || !(section.flags & procscope::elf::shf_execinstr) ||
            !(section.flags & procscope::elf::shf_alloc) || section.size == 0)
            continue;
        auto bytes = elf.section_contents(section);
        if (!bytes) return std::unexpected(std::move(bytes.error()));
        ranges.push_back({section.addr, *bytes, std::vector<std::uint8_t>(bytes->size(), 0)});
    }
    if (!ranges.empty()) return ranges;
    // No section headers: the executable segments.
    for (const auto& header : elf.program_headers()) {
        if (header.type != procscope::elf::pt_load || !(header.flags & procscope::elf::pf_x) || header.filesz == 0) continue;
        auto bytes = elf.segment_contents(header);
        if (!bytes) return std::unexpected(std::move(bytes.error()));
        ranges.push_back({header.vaddr, *bytes, std::vector<std::uint8_t>(bytes->size(), 0)});
    }
    return ranges;
}

void collect_symbols(const objfile::ElfFile& elf, std::vector<FunctionRange>& out) {
    for (auto table : {elf.static_symbols(), elf.dynamic_symbols()}) {
        if (!table) continue; // absent (stripped) or unreadable: .eh_frame still has the starts
        for (std::uint32_t i = 1; i < table->size(); ++i) {
            auto symbol = table->symbol(i);
            if (!symbol || !symbol->is_defined() || symbol->value == 0) continue;
            if (symbol->type != objfile::ElfSymbolType::func && symbol->type != objfile::ElfSymbolType::gnu_ifunc) continue;
            if (symbol->section_index >= procscope::elf::shn_loreserve) continue;
            out.push_back({symbol->value, symbol->size});
        }
    }
}

// Where the LSDAs are: .gcc_except_table, or (no section headers) the loaded segment holding
// each one. Empty bytes when there is none.
struct LsdaBytes {
    procscope::Bytes bytes;
    std::uint64_t vaddr = 0;
};

LsdaBytes lsda_bytes_at(const objfile::ElfFile& elf, const LsdaBytes& table, std::uint64_t lsda) {
    if (!table.bytes.empty() && lsda >= table.vaddr && lsda - table.vaddr < table.bytes.size()) return table;
    for (const auto& header : elf.program_headers()) {
        if (header.type != procscope::elf::pt_load || lsda < header.vaddr || lsda - header.vaddr >= header.filesz) continue;
        if (auto bytes = elf.segment_contents(header)) return {*bytes, header.vaddr};
    }
    return {};
}

// The landing pads of every function with an LSDA: code only the C++ unwinder jumps to.
std::vector<std::uint64_t> landing_pads(const objfile::ElfFile& elf, const std::vector<FunctionRange>& fdes) {
    LsdaBytes table;
    if (auto section = elf.find_section(".gcc_except_table"); section && section->type != procscope::elf::sht_nobits)
        if (auto bytes = elf.section_contents(*section)) table = {*bytes, section->addr};
    std::vector<std::uint64_t> out;
    for (const FunctionRange& f : fdes) {
        if (f.lsda == 0) continue;
        LsdaBytes where = lsda_bytes_at(elf, table, f.lsda);
        if (where.bytes.empty()) continue;
        // A broken table loses its landing pads (they stop once when first reached), not the module.
        if (auto pads = parse_lsda_landing_pads(where.bytes, where.vaddr, f.lsda, f.start))
            out.insert(out.end(), pads->begin(), pads->end());
    }
    return out;
}

} // namespace

std::size_t BlockList::index_of(std::uint64_t vaddr) const noexcept {
    auto it = std::lower_bound(starts.begin(), starts.end(), vaddr);
    return it != starts.end() && *it == vaddr ? static_cast<std::size_t>(it - starts.begin()) : starts.size();
}

Expected<BlockList> BlockFinder::find(const objfile::ElfFile& elf) {
    auto began = std::chrono::steady_clock::now();
    auto ranges = code_ranges(elf);
    if (!ranges) return std::unexpected(std::move(ranges.error()));

    std::vector<FunctionRange> symbols;
    collect_symbols(elf, symbols);
    std::vector<FunctionRange> fdes;
    if (auto location = locate_eh_frame(elf)) {
        auto parsed = parse_eh_frame(location->bytes, location->vaddr);
        if (parsed) fdes = std::move(*parsed);
        // A broken .eh_frame leaves the symbols; it is not worth failing the module for.
    }

    // One extent per start; where symbol and FDE disagree, the larger bounds the decoding.
    std::unordered_map<std::uint64_t, std::uint64_t> extent;
    extent.reserve(symbols.size() + fdes.size());
    for (const FunctionRange& f : symbols) {
        auto [it, added] = extent.try_emplace(f.start, f.size);
        if (!added) it->second = std::max(it->second, f.size);
    }
    std::size_t from_symbols = extent.size();
    for (const FunctionRange& f : fdes) {
        auto [it, added] = extent.try_emplace(f.start, f.size);
        if (!added) it->second = std::max(it->second, f.size);
    }
    std::vector<FunctionRange> functions;
    functions.reserve(extent.size());
    for (auto [start, size] : extent) functions.push_back({start, size});
    std::ranges::sort(functions, {}, &FunctionRange::start);

    Decoder decoder(std::move(*ranges));
    for (std::size_t i = 1; i < functions.size(); ++i) {
        const FunctionRange& previous = functions[i - 1];
        FunctionRange& f = functions[i];
        if (previous.size == 0) continue;
        std::uint64_t moved = decoder.start_after_padding(previous.start + previous.size, f.start);
        if (moved != f.start && moved < f.start + f.size) {
            f.size -= moved - f.start;
            f.start = moved;
        }
    }
    decoder.set_functions(functions);
    decoder.stats.functions_from_symbols = from_symbols;
    decoder.stats.functions_from_eh_frame = extent.size() - from_symbols;
    for (const FunctionRange& f : functions) decoder.add_function_start(f.start);
    if (elf.entry() != 0) decoder.add_function_start(elf.entry());
    std::vector<std::uint64_t> pads = landing_pads(elf, fdes);
    decoder.stats.landing_pads = pads.size();
    for (std::uint64_t pad : pads) decoder.add_function_start(pad);
    decoder.run();

    BlockList blocks = decoder.blocks();
    std::size_t conflicts = blocks.stats.conflicts;
    blocks.stats = decoder.stats;
    blocks.stats.conflicts = conflicts;
    blocks.stats.milliseconds =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    return blocks;
}

} // namespace instrument
