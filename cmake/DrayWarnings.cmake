# Warning flags for our own targets only; third-party headers come in as SYSTEM.
function(dray_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local)
endfunction()
