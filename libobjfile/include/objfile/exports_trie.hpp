// The dyld exports trie: the names a Mach-O image exports, as a prefix tree of edge strings
// with a terminal record (flags, address or re-export, resolver) at each exported name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objfile/macho_types.hpp"
#include "procscope/bytes.hpp"
#include "procscope/error.hpp"

namespace objfile {

enum class ExportKind : std::uint8_t { regular, thread_local_variable, absolute };

struct ExportedSymbol {
    std::string name;
    std::uint64_t flags = 0;            // raw terminal flags (macho::export_symbol_flags_*)
    std::uint64_t address = 0;          // offset from the image's mach header; the value when absolute
    std::uint64_t resolver = 0;         // stub_and_resolver: offset of the resolver function
    std::uint64_t library_ordinal = 0;  // re-export: 1-based index into the image's linked dylibs
    std::string_view imported_name;     // re-export: the name in that dylib; empty when the same
    std::uint64_t terminal_offset = 0;  // where the terminal record starts in the trie bytes

    ExportKind kind() const noexcept {
        switch (flags & macho::export_symbol_flags_kind_mask) {
        case macho::export_symbol_flags_kind_thread_local: return ExportKind::thread_local_variable;
        case macho::export_symbol_flags_kind_absolute: return ExportKind::absolute;
        default: return ExportKind::regular;
        }
    }
    bool is_weak_definition() const noexcept { return flags & macho::export_symbol_flags_weak_definition; }
    bool is_reexport() const noexcept { return flags & macho::export_symbol_flags_reexport; }
    bool has_resolver() const noexcept { return flags & macho::export_symbol_flags_stub_and_resolver; }
};

// A view over trie bytes (from LC_DYLD_INFO(_ONLY).export_off or LC_DYLD_EXPORTS_TRIE); the
// bytes must outlive the view and the symbols it returns (imported names point into them).
// Nothing is decoded until asked; every read is bounds-checked, ULEB128 values that overflow
// 64 bits, a node reached twice (a cycle or shared subtree) and paths deeper than max_depth are
// errors, so hostile input cannot loop or blow up.
class ExportsTrie {
public:
    // Deeper than any real symbol's chain of edges; bounds the walk's stack.
    static constexpr std::size_t max_depth = 4096;

    ExportsTrie() = default;
    // `context` starts every error message, e.g. "libfoo.dylib: exports trie".
    explicit ExportsTrie(procscope::Bytes trie, std::string context = "exports trie");

    procscope::Bytes bytes() const noexcept { return trie_; }
    bool empty() const noexcept { return trie_.empty(); }

    // Calls `visit` for each exported symbol, depth-first in edge order with a node's own
    // symbol before its children's, as dyld walks it (llvm-objdump lists children first). On
    // malformed data it returns the error after visiting every symbol found before it, so
    // callers can keep a partial result.
    procscope::Expected<void> for_each(const std::function<void(const ExportedSymbol&)>& visit) const;

    // Every exported symbol, or the first error.
    procscope::Expected<std::vector<ExportedSymbol>> symbols() const;

    // Follows the edges that spell `name` from the root (no enumeration). nullopt when the
    // trie does not export `name`; an error when a node on the path is malformed.
    procscope::Expected<std::optional<ExportedSymbol>> find(std::string_view name) const;

private:
    procscope::Bytes trie_;
    std::string context_;
};

} // namespace objfile
