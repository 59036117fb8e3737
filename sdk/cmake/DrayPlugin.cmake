# dray_add_plugin(<kind> <name> SOURCES <registration.cpp> [IMPL <behaviour sources…>] [LIBS <targets…>]
#                 [OUTPUT_DIR <dir>] [NO_INSTALL])
#
# Builds the MODULE `dray-<kind>-<name>` that the core loads from DRAY_PLUGIN_PATH.
# With IMPL, the behaviour is also built as a static library `dray-<kind>-<name>-impl`
# so tests can link it directly; the MODULE then holds only the registration.
# The same file is installed with the SDK, so in-tree and out-of-tree plugins use
# the identical line.
function(dray_add_plugin kind name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;IMPL;LIBS" ${ARGN})
  set(target dray-${kind}-${name})
  if(ARG_IMPL)
    add_library(${target}-impl STATIC ${ARG_IMPL})
    set_target_properties(${target}-impl PROPERTIES
      POSITION_INDEPENDENT_CODE ON
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    target_include_directories(${target}-impl PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${target}-impl PUBLIC DraySdk::sdk ${ARG_LIBS})
    if(COMMAND dray_enable_warnings)
      dray_enable_warnings(${target}-impl)
    endif()
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  elseif(DEFINED DRAY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${DRAY_PLUGIN_OUTPUT_DIR})
  endif()
  # Unresolved symbols must fail the build, not kill the host at first call.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  target_link_libraries(${target} PRIVATE DraySdk::sdk ${ARG_LIBS})
  if(ARG_IMPL)
    target_link_libraries(${target} PRIVATE ${target}-impl)
  endif()
  if(COMMAND dray_enable_warnings)
    dray_enable_warnings(${target})
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT DEFINED DRAY_PLUGIN_INSTALL_DIR)
      set(DRAY_PLUGIN_INSTALL_DIR lib/dray/plugins)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${DRAY_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
