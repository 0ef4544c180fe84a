#include "json_output.hpp"

#include <fmt/format.h>

#include "procscope/hex.hpp"

namespace procsym::cli {

namespace {

std::string quoted(std::string_view bytes) { return "\"" + procscope::json_escape(bytes) + "\""; }
// Addresses and offsets are hex strings: 64-bit values exceed what many JSON readers hold.
std::string hex(std::uint64_t value) { return "\"" + procscope::to_hex(value) + "\""; }
std::string hex_or_null(const std::optional<std::uint64_t>& value) { return value ? hex(*value) : "null"; }

// Stable names for the library's error codes.
std::string_view code_name(procscope::ErrorCode code) {
    using procscope::ErrorCode;
    switch (code) {
    case ErrorCode::no_such_process: return "no_such_process";
    case ErrorCode::permission: return "permission";
    case ErrorCode::malformed: return "malformed";
    case ErrorCode::truncated: return "truncated";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::io: return "io";
    case ErrorCode::invalid_argument: return "invalid_argument";
    }
    return "unknown";
}

std::string error_json(const std::optional<procscope::Error>& error) {
    if (!error) return "null";
    return fmt::format(R"({{"code":"{}","message":{}}})", code_name(error->code), quoted(error->message));
}

std::string image_json(const ImageFacts& image) {
    if (image.path.empty()) return "null";
    return fmt::format(R"({{"path":{},"deleted":{},"load_bias":{}}})", quoted(image.path), image.deleted,
                       hex_or_null(image.load_bias));
}

std::string value_json(const std::optional<Value>& value) {
    if (!value) return "null";
    switch (value->kind) {
    case ReadKind::u64: return fmt::format(R"({{"u64":{},"decimal":"{}"}})", hex(value->u64), value->u64);
    case ReadKind::string: return fmt::format(R"({{"string":{}}})", quoted(value->bytes));
    case ReadKind::bytes: {
        std::string bytes;
        for (unsigned char c : value->bytes) bytes += fmt::format("{:02x}", c);
        return fmt::format(R"({{"bytes":"{}"}})", bytes);
    }
    case ReadKind::none: break;
    }
    return "null";
}

std::string symbol_json(const SymbolAnswer& a) {
    if (!a.symbol) return fmt::format(R"({{"name":{},"found":false,"error":{}}})", quoted(a.name), error_json(a.error));
    const symbols::ResolvedSymbol& s = *a.symbol;
    return fmt::format(R"({{"name":{},"found":true,"symbol":{},"address":{},"size":{},"image":{},"vaddr":{},)"
                       R"("file_offset":{},"source":"{}","value":{},"error":{}}})",
                       quoted(a.name), quoted(s.name), hex(s.address), s.size, image_json(a.image), hex(s.file_vaddr),
                       hex_or_null(a.file_offset), symbols::to_string(s.source), value_json(a.value),
                       error_json(a.error));
}

std::string address_json(const AddressAnswer& a) {
    if (!a.resolved)
        return fmt::format(R"({{"address":{},"image":null,"file_offset":null,"vaddr":null,"symbol":null,"error":{}}})",
                           hex(a.address), error_json(a.error));
    const symbols::ResolvedAddress& r = *a.resolved;
    std::string symbol = "null";
    if (r.symbol) {
        const objfile::ElfSymbol& s = r.symbol->symbol;
        std::uint64_t start = r.address - r.symbol->offset;
        symbol = fmt::format(R"({{"name":{},"offset":{},"address":{},"size":{},"source":"{}"}})",
                             quoted(objfile::versioned_name(s)), hex(r.symbol->offset), hex(start), s.size,
                             symbols::to_string(r.symbol->source));
    }
    return fmt::format(R"({{"address":{},"image":{},"file_offset":{},"vaddr":{},"symbol":{},"error":null}})",
                       hex(a.address), image_json(a.image), hex_or_null(r.file_offset),
                       r.image ? hex(r.file_vaddr) : "null", symbol);
}

} // namespace

std::string json_document(const SourceFacts& source, const std::vector<SymbolAnswer>& symbols,
                          const std::vector<AddressAnswer>& addresses) {
    std::string out = R"({"schema":"procsym/1","source":)";
    if (source.core)
        out += fmt::format(R"({{"kind":"core","path":{}}})", quoted(source.core_path));
    else
        out += fmt::format(R"({{"kind":"process","pid":{}}})", source.pid);
    out += R"(,"symbols":[)";
    for (std::size_t i = 0; i < symbols.size(); ++i) out += (i ? "," : "") + symbol_json(symbols[i]);
    out += R"(],"addresses":[)";
    for (std::size_t i = 0; i < addresses.size(); ++i) out += (i ? "," : "") + address_json(addresses[i]);
    out += "]}\n";
    return out;
}

} // namespace procsym::cli
