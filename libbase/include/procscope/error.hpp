// Errors as values, shared by every procscope library.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace procscope {

enum class ErrorCode {
    no_such_process,  // the process does not exist or has exited
    permission,       // the OS refused access
    malformed,        // input bytes that break the format's rules
    truncated,        // input ends before a structure it declares
    unsupported,      // valid input of a kind we do not handle
    not_found,        // a looked-up thing is absent
    io,               // any other OS-level failure
    invalid_argument, // the caller's request is wrong
};

std::string_view to_string(ErrorCode code) noexcept;

// A code plus a message that names the object and the reason, e.g.
// "core.bin: program header 7 at offset 0x1c8: p_offset beyond end of file".
struct Error {
    ErrorCode code;
    std::string message;
};

template <class T>
using Expected = std::expected<T, Error>;

using Unexpected = std::unexpected<Error>;

inline Unexpected make_error(ErrorCode code, std::string message) {
    return std::unexpected<Error>(Error{code, std::move(message)});
}

// Maps an errno value from an OS call on `what` to an Error, e.g. ESRCH -> no_such_process.
Error error_from_errno(int errnum, std::string_view what);

} // namespace procscope
