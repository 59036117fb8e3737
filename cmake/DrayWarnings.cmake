# Warning flags for our own targets only; third-party headers come in as SYSTEM.
# Guarded by compiler id: -Wshadow=local is GCC's spelling, clang has its own.
function(dray_enable_warnings target)
  target_compile_options(${target} PRIVATE
    "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall;-Wextra;-Wpedantic>"
    "$<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>"
    "$<$<CXX_COMPILER_ID:Clang,AppleClang>:-Wshadow-uncaptured-local>"
    "$<$<CXX_COMPILER_ID:MSVC>:/W4>")
endfunction()
