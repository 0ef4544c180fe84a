// Reading the value at a symbol: bytes, a C string or a 64-bit integer.
#pragma once

#include <cstdint>
#include <string>

#include "options.hpp"
#include "procmaps/memory_reader.hpp"

namespace procsym::cli {

struct Value {
    ReadKind kind = ReadKind::none;
    std::string bytes;     // ReadKind::bytes and ReadKind::string: the bytes read
    std::uint64_t u64 = 0; // ReadKind::u64
};

// Reads what `request` asks for at `address`; errors say what could not be read.
procscope::Expected<Value> read_value(procmaps::MemoryReader& memory, std::uint64_t address, const ReadRequest& request);

} // namespace procsym::cli
