#include "value_read.hpp"

#include <vector>

#include "procscope/hex.hpp"

namespace procsym::cli {

procscope::Expected<Value> read_value(procmaps::MemoryReader& memory, std::uint64_t address, const ReadRequest& request) {
    Value value;
    value.kind = request.kind;
    switch (request.kind) {
    case ReadKind::none: break;
    case ReadKind::u64: {
        auto read = memory.read<std::uint64_t>(address);
        if (!read) return std::unexpected(read.error());
        value.u64 = *read;
        break;
    }
    case ReadKind::string: {
        auto read = memory.read_c_string(address, request.size);
        if (!read) return std::unexpected(read.error());
        value.bytes = std::move(*read);
        break;
    }
    case ReadKind::bytes: {
        std::vector<std::byte> buffer(request.size);
        if (auto read = memory.read_exact(address, buffer); !read) return std::unexpected(read.error());
        value.bytes.assign(reinterpret_cast<const char*>(buffer.data()), buffer.size());
        break;
    }
    }
    return value;
}

} // namespace procsym::cli
