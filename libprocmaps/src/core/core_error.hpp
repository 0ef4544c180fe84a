// Error messages for core files: "<file>: <structure> at offset 0x1c8: <reason>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "procscope/error.hpp"
#include "procscope/hex.hpp"

namespace procmaps::core {

using procscope::to_hex;

inline std::unexpected<procscope::Error> core_error(procscope::ErrorCode code, std::string_view file,
                                                    std::string_view structure, std::uint64_t offset,
                                                    std::string_view reason) {
    std::string message(file);
    message += ": ";
    message += structure;
    message += " at offset ";
    message += to_hex(offset);
    message += ": ";
    message += reason;
    return procscope::make_error(code, std::move(message));
}

} // namespace procmaps::core
