// Human names for Mach-O numbers, as Apple's and LLVM's tools print them.
#pragma once

#include <cstdint>
#include <string_view>

namespace objfile {

// "LC_SEGMENT_64"; "LC_??" for a command this reader does not know.
std::string_view load_command_name(std::uint32_t cmd) noexcept;

// The -arch name of a CPU: "x86_64", "x86_64h", "arm64", "arm64e", "i386", "armv7", ...;
// empty when unknown. Capability bits in the high byte of `cpusubtype` are ignored.
std::string_view arch_name(std::int32_t cputype, std::int32_t cpusubtype) noexcept;

// "macos", "ios", "iossimulator", ... for LC_BUILD_VERSION platforms; empty when unknown.
std::string_view platform_name(std::uint32_t platform) noexcept;

} // namespace objfile
