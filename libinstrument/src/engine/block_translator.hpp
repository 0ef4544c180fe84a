// Translation of original code into a module's cache, a batch at a time: each block is decoded,
// handed to the client, its instructions relocated and its end turned into linked branches or a
// jump to the indirect lookup. Direct branch targets in the module are translated in the same
// batch, so every direct link is made before the code is written: live code is never patched.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/translated_module.hpp"
#include "instrument/block_emitter.hpp"
#include "instrument/target_process.hpp"
#include "x86_64/decoded_instruction.hpp"
#include "x86_64/encoder.hpp"

namespace instrument::engine {

// The client side of translation (the Instrumenter's hooks).
class TranslationClient {
public:
    virtual ~TranslationClient() = default;
    virtual void instrument_block(BlockEmitter&, const BlockInfo&) = 0;
    virtual void instrument_edge(BlockEmitter&, const EdgeInfo&) = 0;
    virtual void instrument_instruction(BlockEmitter&, const InstructionInfo&) = 0;
    virtual void instrument_return(BlockEmitter&, const ReturnInfo&) = 0;
    virtual bool wants_instructions() const = 0;
    virtual bool wants_edges() const = 0;
};

struct TranslatedBatch {
    procscope::LargeVector<std::pair<std::uint64_t, std::uint64_t>> blocks; // original -> cache
    procscope::LargeVector<std::pair<std::uint64_t, std::uint64_t>> indirect_entries; // original -> its indirect entry
    std::vector<std::uint64_t> return_sites; // originals that translated calls return to
    std::vector<std::string> warnings;
};

class BlockTranslator {
public:
    BlockTranslator(TranslatedModule& module, TargetProcess& process, TranslationClient& client);

    // Translates `seeds` (original addresses in the module) and every block they reach by direct
    // branches that has no translation yet; writes the code to the cache.
    procscope::Expected<TranslatedBatch> translate(std::span<const std::uint64_t> seeds);

    // Code for an indirect edge (site -> target): the client's edge code, then a jump to
    // `destination` (a translation or a native address). Returns where it starts.
    procscope::Expected<std::uint64_t> edge_stub(const EdgeInfo& edge, std::uint64_t destination);
    // An indirect entry that goes to native `target` (one per target, kept in the module).
    procscope::Expected<std::uint64_t> native_entry(std::uint64_t target);

private:
    struct Fixup {
        std::uint64_t at = 0;      // cache address of the branch
        std::uint8_t length = 0;
        ZydisMnemonic mnemonic = ZYDIS_MNEMONIC_JMP;
        std::uint64_t target = 0;  // original address in the module
    };
    // `inline_entry`: the block starts a run and has its indirect entry in front of it; else it
    // continues the block translated just before (which ends in no jump) and gets one out of line.
    procscope::Expected<void> translate_block(std::uint64_t address, bool inline_entry);
    procscope::Expected<void> emit_outlined_entries();
    void decode_block(std::uint64_t address, x86_64::BranchKind& end, bool& undecodable);
    void roll_back();
    procscope::Expected<void> relocate(const x86_64::DecodedInstruction& d);
    procscope::Expected<void> emit_end(const x86_64::DecodedInstruction& d, x86_64::BranchKind kind,
                                       std::uint64_t block);
    procscope::Expected<void> emit_indirect(const x86_64::DecodedInstruction& d, x86_64::BranchKind kind,
                                            std::uint64_t block);
    // jmp to the translation of `target` if it is module code (translated in this batch), else
    // to `target` natively.
    procscope::Expected<void> emit_jump(std::uint64_t target, ZydisMnemonic mnemonic = ZYDIS_MNEMONIC_JMP);
    // The jump that ends a block's code: when `target` is module code with no translation yet,
    // no jump at all, and `target` is translated next, right here (`continue_with_`).
    procscope::Expected<void> emit_final_jump(std::uint64_t target);
    // jmp to `target` as it is (rel32 when in reach, else through a literal).
    procscope::Expected<void> emit_native_jump(std::uint64_t target);
    procscope::Expected<void> emit_edge(const EdgeInfo& edge, std::function<bool()> flags_live);
    // Status flags live at `address` (read before written on some path), looking `depth` blocks
    // ahead; calls and returns end liveness (the ABI keeps no flags across them).
    std::uint32_t live_flags(std::uint64_t address, int depth) const;
    std::uint32_t live_flags(std::span<const x86_64::DecodedInstruction> run, x86_64::BranchKind end, int depth) const;
    bool flags_live_at(std::uint64_t address) const { return live_flags(address, 1) != 0; }
    void enqueue(std::uint64_t address);
    void map_here(std::uint64_t original, std::int32_t rsp_adjust, bool exact);
    // Builds a stub with `emit` at the cache's end and writes it; returns where it starts.
    procscope::Expected<std::uint64_t> write_stub(const std::function<procscope::Expected<void>()>& emit);

    TranslatedModule& module_;
    TargetProcess& process_;
    TranslationClient& client_;
    x86_64::InstructionDecoder decoder_;
    x86_64::CodeBuffer code_;
    std::vector<std::uint64_t> worklist_;
    procscope::LargeVector<std::pair<std::uint64_t, std::uint64_t>> batch_blocks_; // original -> cache, this batch
    std::vector<x86_64::DecodedInstruction> instructions_;               // the block being translated
    procscope::LargeVector<Fixup> fixups_;
    std::uint64_t continue_with_ = 0;     // the block to translate right after this one, or 0
    std::vector<std::uint64_t> outlined_; // blocks of this batch without an inline entry
    std::size_t outlined_mark_ = 0;       // the module's outlined_entries before this batch
    std::size_t map_mark_ = 0; // the module's pc map before this batch
    std::size_t plain_counters_mark_ = 0; // the module's plain counter sites before it
    TranslatedBatch batch_;
};

} // namespace instrument::engine
