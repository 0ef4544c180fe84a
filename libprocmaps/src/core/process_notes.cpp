#include "core/process_notes.hpp"

#include <algorithm>

namespace procmaps::core {

// Every Linux architecture starts elf_prstatus with the same fields; only `long` changes size:
// pr_info {si_signo, si_code, si_errno}, short pr_cursig at 12, then longs pr_sigpend and
// pr_sighold (from 16, after padding to a long), then int pr_pid.
ProcessStatus read_prstatus(procscope::Bytes desc, bool is_64bit, bool swap) noexcept {
    constexpr std::uint64_t cursig_offset = 12;
    const std::uint64_t pid_offset = is_64bit ? 32 : 24;
    auto cursig = procscope::load<std::int16_t>(desc, cursig_offset);
    auto pid = procscope::load<std::int32_t>(desc, pid_offset);
    if (!cursig || !pid) return {};
    return {procscope::byteswap_if(*pid, swap), procscope::byteswap_if(*cursig, swap)};
}

// elf_prpsinfo differs by the size of `long` and of uid_t; its total size tells them apart:
// 136 bytes on 64-bit (pr_fname at 40), 124 on 32-bit with 16-bit uids (i386, arm: at 28),
// 128 on 32-bit with 32-bit uids (at 32).
std::string read_prpsinfo_command(procscope::Bytes desc, bool is_64bit) {
    constexpr std::uint64_t fname_size = 16;
    std::uint64_t fname_offset = 0;
    if (is_64bit && desc.size() == 136) fname_offset = 40;
    else if (!is_64bit && desc.size() == 124) fname_offset = 28;
    else if (!is_64bit && desc.size() == 128) fname_offset = 32;
    else return {};
    auto fname = procscope::as_chars(*procscope::slice(desc, fname_offset, fname_size));
    return std::string(fname.substr(0, std::min(fname.find('\0'), fname.size())));
}

} // namespace procmaps::core
