#include "procscope/error.hpp"

#include <cerrno>
#include <cstring>

namespace procscope {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::no_such_process: return "no such process";
    case ErrorCode::permission: return "permission denied";
    case ErrorCode::malformed: return "malformed input";
    case ErrorCode::truncated: return "truncated input";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::io: return "I/O error";
    case ErrorCode::invalid_argument: return "invalid argument";
    }
    return "unknown error";
}

Error error_from_errno(int errnum, std::string_view what) {
    ErrorCode code = ErrorCode::io;
    switch (errnum) {
    case ESRCH: code = ErrorCode::no_such_process; break;
    case EACCES:
    case EPERM: code = ErrorCode::permission; break;
    case ENOENT: code = ErrorCode::not_found; break;
    case EINVAL: code = ErrorCode::invalid_argument; break;
    default: break;
    }
    std::string message(what);
    message += ": ";
    message += std::strerror(errnum);
    return Error{code, std::move(message)};
}

} // namespace procscope
