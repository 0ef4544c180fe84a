# ELF test inputs built at build time (never checked in): the sample program and library under
# elf_samples/, linked several ways, plus the LIEF oracle. Included by CMakeLists.txt after
# objfile_tests is defined. Outputs land in generated/elf_samples/, where scripts/run-fuzzers
# also picks them up as seeds.

set(elf_sample_src ${CMAKE_CURRENT_SOURCE_DIR}/elf_samples)
set(elf_sample_dir ${CMAKE_CURRENT_BINARY_DIR}/generated/elf_samples)
file(MAKE_DIRECTORY ${elf_sample_dir})

# The compilers are called directly so no project flag (sanitizers, -fPIC) leaks into them.
find_program(ELF_SAMPLE_CC NAMES gcc cc)
find_program(ELF_SAMPLE_CLANG NAMES clang-16 clang)
find_program(ELF_SAMPLE_LLD NAMES ld.lld ld.lld-16)

set(elf_samples)
# elf_sample(<output> <compiler> <flags...>): one output from sample sources named in flags.
function(elf_sample output compiler)
  add_custom_command(OUTPUT ${elf_sample_dir}/${output}
    COMMAND ${compiler} ${ARGN} -o ${elf_sample_dir}/${output}
    DEPENDS ${elf_sample_src}/sample_main.c ${elf_sample_src}/sample_lib.c ${elf_sample_src}/sample_lib.map
    COMMENT "ELF sample ${output}" VERBATIM)
  set(elf_samples ${elf_samples} ${elf_sample_dir}/${output} PARENT_SCOPE)
endfunction()

set(main_c ${elf_sample_src}/sample_main.c)
set(lib_c ${elf_sample_src}/sample_lib.c)
set(lib_map -Wl,--version-script=${elf_sample_src}/sample_lib.map)
if(ELF_SAMPLE_CC)
  # -rdynamic exports the program's symbols; sample-nopie exports none (an empty .gnu.hash).
  elf_sample(sample-pie ${ELF_SAMPLE_CC} -O1 -g0 -fPIE -pie -rdynamic ${main_c})
  elf_sample(sample-nopie ${ELF_SAMPLE_CC} -O1 -g0 -fno-pie -no-pie ${main_c})
  elf_sample(sample-static ${ELF_SAMPLE_CC} -O1 -g0 -static ${main_c})
  elf_sample(libsample-both.so ${ELF_SAMPLE_CC} -O1 -g0 -shared -fPIC ${lib_map} -Wl,--hash-style=both
    -Wl,--build-id=sha1 ${lib_c})
  elf_sample(libsample-sysv.so ${ELF_SAMPLE_CC} -O1 -g0 -shared -fPIC ${lib_map} -Wl,--hash-style=sysv
    -Wl,-soname,libsample-sysv.so.1 ${lib_c})
endif()
if(ELF_SAMPLE_CC AND ELF_SAMPLE_LLD)
  elf_sample(sample-lld ${ELF_SAMPLE_CC} -O1 -g0 -fuse-ld=lld -rdynamic ${main_c})
  elf_sample(libsample-lld.so ${ELF_SAMPLE_CC} -O1 -g0 -shared -fPIC -fuse-ld=lld ${lib_map}
    -Wl,--hash-style=gnu ${lib_c})
endif()
# Other classes and byte orders: linked without a libc, which is all the tests need.
if(ELF_SAMPLE_CLANG AND ELF_SAMPLE_LLD)
  foreach(target i386-linux-gnu aarch64_be-linux-gnu powerpc-linux-gnu powerpc64-linux-gnu)
    elf_sample(libsample-${target}.so ${ELF_SAMPLE_CLANG} -target ${target} -O1 -g0 -shared -fPIC -nostdlib
      -fuse-ld=lld ${lib_map} -Wl,--hash-style=both -Wl,--build-id=md5 ${lib_c})
  endforeach()
  elf_sample(sample-i386.o ${ELF_SAMPLE_CLANG} -target i386-linux-gnu -O1 -g0 -c ${main_c})
  elf_sample(sample-aarch64_be.o ${ELF_SAMPLE_CLANG} -target aarch64_be-linux-gnu -O1 -g0 -c ${main_c})
endif()

add_custom_target(elf_samples DEPENDS ${elf_samples})
add_dependencies(objfile_tests elf_samples)
target_compile_definitions(objfile_tests PRIVATE ELF_SAMPLES_DIR="${elf_sample_dir}")

# LIEF 0.9 (Debian liblief-dev) as a second oracle, in its own C++17 process: its headers and
# its leaks stay out of the test binary, and it is built without the project's sanitizers.
find_library(LIEF_LIB LIEF)
find_path(LIEF_INCLUDE_DIR LIEF/ELF.hpp)
if(LIEF_LIB AND LIEF_INCLUDE_DIR)
  add_executable(lief_elf_oracle ${CMAKE_CURRENT_SOURCE_DIR}/elf_lief_oracle/lief_elf_oracle.cpp)
  set_target_properties(lief_elf_oracle PROPERTIES CXX_STANDARD 17 COMPILE_OPTIONS "" LINK_OPTIONS "")
  target_include_directories(lief_elf_oracle SYSTEM PRIVATE ${LIEF_INCLUDE_DIR})
  target_link_libraries(lief_elf_oracle PRIVATE ${LIEF_LIB})
  add_dependencies(objfile_tests lief_elf_oracle)
  target_compile_definitions(objfile_tests PRIVATE LIEF_ELF_ORACLE="$<TARGET_FILE:lief_elf_oracle>")
endif()
