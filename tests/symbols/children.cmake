# The test child and its plugin (child/), built the ways that trip symbolizers up: PIE,
# non-PIE, linked by lld (segments at unaligned p_vaddr), and stripped with the symbols kept in
# a debug file found by .gnu_debuglink, by build-id, or in MiniDebugInfo. All land in
# children/ as known_child_<variant> and libprocscope_plugin_<variant>.so.

set(children_dir ${CMAKE_CURRENT_BINARY_DIR}/children)
set(child_src ${CMAKE_CURRENT_SOURCE_DIR}/child)
find_program(SYMBOLS_LLD NAMES ld.lld ld.lld-16 ld.lld-14)

set(symbols_children)
# symbols_child(<variant> COMPILE <flags> LINK <flags>): the child and its plugin, one way.
function(symbols_child variant)
  cmake_parse_arguments(ARG "" "" "COMPILE;LINK;PLUGIN_LINK" ${ARGN})
  set(child symbols_child_${variant})
  set(plugin symbols_plugin_${variant})
  add_executable(${child} ${child_src}/known_child.c)
  add_library(${plugin} MODULE ${child_src}/plugin.c)
  # The child is the real-world program under test: no sanitizers, no project flags.
  set_target_properties(${child} ${plugin} PROPERTIES COMPILE_OPTIONS "" LINK_OPTIONS ""
    POSITION_INDEPENDENT_CODE OFF RUNTIME_OUTPUT_DIRECTORY ${children_dir}
    LIBRARY_OUTPUT_DIRECTORY ${children_dir})
  set_target_properties(${child} PROPERTIES OUTPUT_NAME known_child_${variant})
  set_target_properties(${plugin} PROPERTIES OUTPUT_NAME procscope_plugin_${variant} PREFIX lib)
  target_compile_options(${child} PRIVATE -O1 -g ${ARG_COMPILE})
  target_link_options(${child} PRIVATE ${ARG_LINK})
  target_link_libraries(${child} PRIVATE ${CMAKE_DL_LIBS})
  target_compile_options(${plugin} PRIVATE -O1 -g -fPIC)
  target_link_options(${plugin} PRIVATE ${ARG_PLUGIN_LINK})
  set(symbols_children ${symbols_children} ${child} ${plugin} PARENT_SCOPE)
endfunction()

symbols_child(pie COMPILE -fPIE LINK -pie)
symbols_child(nopie COMPILE -fno-pie LINK -no-pie)
if(SYMBOLS_LLD)
  symbols_child(lld COMPILE -fPIE LINK -pie -fuse-ld=lld PLUGIN_LINK -fuse-ld=lld)
endif()

# split_child(<mode>): the pie child and plugin stripped by child/split_debug.sh <mode>. The
# executable's debug file sits beside it, the plugin's in .debug/ (both debuglink places);
# build-id debug files go to <mode>-debug/ for the tests to lay out as .build-id/xx/rest.debug.
set(split_outputs)
function(split_child mode)
  set(exe ${children_dir}/known_child_${mode})
  set(lib ${children_dir}/libprocscope_plugin_${mode}.so)
  if(mode STREQUAL "debuglink")
    set(exe_debug ${exe}.debug)
    set(lib_debug ${children_dir}/.debug/libprocscope_plugin_${mode}.so.debug)
  else()
    set(exe_debug ${children_dir}/${mode}-debug/known_child_${mode}.debug)
    set(lib_debug ${children_dir}/${mode}-debug/libprocscope_plugin_${mode}.so.debug)
  endif()
  add_custom_command(OUTPUT ${exe} ${exe_debug}
    COMMAND ${child_src}/split_debug.sh ${mode} $<TARGET_FILE:symbols_child_pie> ${exe} ${exe_debug}
    DEPENDS symbols_child_pie ${child_src}/split_debug.sh
    COMMENT "Stripping the symbols test child (${mode})" VERBATIM)
  add_custom_command(OUTPUT ${lib} ${lib_debug}
    COMMAND ${child_src}/split_debug.sh ${mode} $<TARGET_FILE:symbols_plugin_pie> ${lib} ${lib_debug}
    DEPENDS symbols_plugin_pie ${child_src}/split_debug.sh
    COMMENT "Stripping the symbols test plugin (${mode})" VERBATIM)
  set(split_outputs ${split_outputs} ${exe} ${exe_debug} ${lib} ${lib_debug} PARENT_SCOPE)
endfunction()

split_child(debuglink)
split_child(buildid)
split_child(minidebug)

add_custom_target(symbols_children DEPENDS ${split_outputs})
add_dependencies(symbols_children ${symbols_children})
add_dependencies(symbols_tests symbols_children)
target_include_directories(symbols_tests PRIVATE ${child_src})
target_compile_definitions(symbols_tests PRIVATE SYMBOLS_CHILDREN_DIR="${children_dir}"
  SYMBOLS_HAVE_LLD=$<BOOL:${SYMBOLS_LLD}>)
