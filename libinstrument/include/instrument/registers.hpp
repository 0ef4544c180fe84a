// A stopped thread's general-purpose registers (x86-64; the layout of Linux's user_regs_struct
// so the backend copies it without translation).
#pragma once

#include <cstdint>

namespace instrument {

struct Registers {
    std::uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    std::uint64_t rax, rcx, rdx, rsi, rdi;
    std::uint64_t orig_rax; // the syscall a thread stopped in will restart; -1 when none
    std::uint64_t rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;

    std::uint64_t pc() const noexcept { return rip; }
    void set_pc(std::uint64_t value) noexcept { rip = value; }
    std::uint64_t sp() const noexcept { return rsp; }
};

static_assert(sizeof(Registers) == 27 * 8);

} // namespace instrument
