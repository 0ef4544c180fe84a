#include "mini_debuginfo.hpp"

#include <lzma.h>
#include <string>

namespace symbols::detail {

procscope::Expected<std::vector<std::byte>> decompress_xz(procscope::Bytes compressed, std::size_t limit) {
    lzma_stream stream = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&stream, UINT64_MAX, 0) != LZMA_OK)
        return procscope::make_error(procscope::ErrorCode::io, ".gnu_debugdata: cannot start the xz decoder");
    std::vector<std::byte> out(std::min<std::size_t>(limit, compressed.size() * 4 + 4096));
    stream.next_in = reinterpret_cast<const std::uint8_t*>(compressed.data());
    stream.avail_in = compressed.size();
    stream.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    stream.avail_out = out.size();
    lzma_ret ret = LZMA_OK;
    while (ret == LZMA_OK) {
        ret = lzma_code(&stream, LZMA_FINISH);
        if (ret == LZMA_OK && stream.avail_out == 0) {
            if (out.size() >= limit) break;
            std::size_t used = out.size();
            out.resize(std::min(limit, used * 2));
            stream.next_out = reinterpret_cast<std::uint8_t*>(out.data()) + used;
            stream.avail_out = out.size() - used;
        }
    }
    std::size_t produced = static_cast<std::size_t>(stream.total_out);
    lzma_end(&stream);
    if (ret != LZMA_STREAM_END)
        return procscope::make_error(procscope::ErrorCode::malformed,
                                     ".gnu_debugdata: xz data is corrupt or larger than " + std::to_string(limit) +
                                         " bytes (lzma error " + std::to_string(static_cast<int>(ret)) + ")");
    out.resize(produced);
    return out;
}

} // namespace symbols::detail
