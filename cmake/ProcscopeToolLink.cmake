# How the command-line tools (procmaps, procsym, dyldinfo, instrument) are linked.
#
# A profiler runs the tools from scripts and loops, so their start-up is part of every
# answer. Linked the usual way, the dynamic loader maps and relocates libstdc++, libm,
# libgcc_s, Boost.Program_options, fmt and liblzma before main (~1.5-2 ms and ~100 more page
# faults than /bin/true). With PROCSCOPE_STATIC_TOOLS (the default) a tool instead links:
#
#   - as a static-pie executable (no loader, no shared objects, only the binary's own
#     R_X86_64_RELATIVE relocations; ASLR kept) when every library it needs has a static
#     archive. glibc's static libc is fine here: no tool uses NSS (getpwnam & co.), iconv or
#     dlopen, which would need the shared libc at run time (the linker warns if one does);
#   - otherwise (KEEP_LIBC_SHARED: a dependency ships only a shared library, as Debian's
#     Zydis does) against static libstdc++, libgcc, Boost.Program_options, fmt and liblzma,
#     leaving libc and that dependency shared.
#
# Both use fmt header-only (Debian ships no libfmt.a), Boost.Program_options from its .a,
# -Wl,--gc-sections (libstdc++.a is built with function sections: ~13 fewer page faults at
# start), -Wl,-O1 and, where the linker has it, -z pack-relative-relocs (DT_RELR, glibc 2.36:
# procsym's 4,200 relative relocations take 800 bytes instead of 100 KB). Binding stays lazy:
# -z now would look up ~130 more symbols at start in the one dynamic tool (instrument), for
# functions most runs never call. Fully static non-PIE saves only ~5 faults over static-pie
# and gives up ASLR, so it is not used.
# Sanitized and fuzzer builds always link the usual way: ASan and UBSan want the shared
# libstdc++ and a dynamic executable. -DPROCSCOPE_STATIC_TOOLS=OFF does so too.
#
# Include this before the libraries are added: it provides PkgConfig::LZMA (the target
# libsymbols asks pkg-config for) as a global target that hands liblzma.a to the tools linked
# here and liblzma.so to everything else.

option(PROCSCOPE_STATIC_TOOLS
  "Link the command-line tools for a fast start (static-pie, or static libstdc++/Boost/fmt)" ON)

set(PROCSCOPE_TOOLS_LINK_STATIC OFF)
if(PROCSCOPE_STATIC_TOOLS)
  if(PROCSCOPE_SANITIZE OR PROCSCOPE_BUILD_FUZZERS OR CMAKE_CXX_FLAGS MATCHES "-fsanitize")
    message(STATUS "procscope tools: linked against shared libraries (sanitizer or fuzzer build)")
  else()
    include(CheckLinkerFlag)
    check_linker_flag(CXX -static-pie PROCSCOPE_HAS_STATIC_PIE)
    check_linker_flag(CXX LINKER:-z,pack-relative-relocs PROCSCOPE_HAS_PACK_RELATIVE_RELOCS)
    find_library(PROCSCOPE_BOOST_PO_STATIC NAMES libboost_program_options.a)
    find_library(PROCSCOPE_LZMA_STATIC NAMES liblzma.a)
    find_library(PROCSCOPE_LZMA_SHARED NAMES lzma)
    mark_as_advanced(PROCSCOPE_BOOST_PO_STATIC PROCSCOPE_LZMA_STATIC PROCSCOPE_LZMA_SHARED)
    if(PROCSCOPE_HAS_STATIC_PIE AND PROCSCOPE_BOOST_PO_STATIC AND PROCSCOPE_LZMA_STATIC
       AND PROCSCOPE_LZMA_SHARED)
      set(PROCSCOPE_TOOLS_LINK_STATIC ON)
      message(STATUS "procscope tools: linked static (static-pie where possible)")
    else()
      message(STATUS "procscope tools: linked against shared libraries (missing -static-pie, "
        "libboost_program_options.a or liblzma.a)")
    endif()
  endif()
endif()

if(PROCSCOPE_TOOLS_LINK_STATIC AND NOT TARGET PkgConfig::LZMA)
  # Consumer-dependent: the tools set PROCSCOPE_STATIC_LINK; tests and benches get the .so.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(PROCSCOPE_LZMA_PC QUIET liblzma)
  add_library(PkgConfig::LZMA INTERFACE IMPORTED GLOBAL)
  set_property(TARGET PkgConfig::LZMA PROPERTY INTERFACE_LINK_LIBRARIES
    "$<IF:$<BOOL:$<TARGET_PROPERTY:PROCSCOPE_STATIC_LINK>>,${PROCSCOPE_LZMA_STATIC},${PROCSCOPE_LZMA_SHARED}>")
  if(PROCSCOPE_LZMA_PC_INCLUDE_DIRS)
    set_property(TARGET PkgConfig::LZMA PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${PROCSCOPE_LZMA_PC_INCLUDE_DIRS}")
  endif()
endif()

# procscope_link_tool(<target> [KEEP_LIBC_SHARED])
#   Links <target> with Boost.Program_options, fmt and the start-up options above.
#   KEEP_LIBC_SHARED: a dependency has no static archive; link libc (and it) shared.
function(procscope_link_tool target)
  cmake_parse_arguments(ARG "KEEP_LIBC_SHARED" "" "" ${ARGN})
  if(NOT PROCSCOPE_TOOLS_LINK_STATIC OR NOT TARGET fmt::fmt-header-only)
    target_link_libraries(${target} PRIVATE Boost::program_options fmt::fmt)
    return()
  endif()
  set_property(TARGET ${target} PROPERTY PROCSCOPE_STATIC_LINK ON)
  target_link_libraries(${target} PRIVATE ${PROCSCOPE_BOOST_PO_STATIC} Boost::headers fmt::fmt-header-only)
  target_link_options(${target} PRIVATE LINKER:-O1 LINKER:--gc-sections)
  if(PROCSCOPE_HAS_PACK_RELATIVE_RELOCS)
    target_link_options(${target} PRIVATE LINKER:-z,pack-relative-relocs)
  endif()
  if(ARG_KEEP_LIBC_SHARED)
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
  else()
    target_link_options(${target} PRIVATE -static-pie)
  endif()
endfunction()
