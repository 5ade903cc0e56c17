# One INTERFACE target carries the project's warnings and sanitizer flags
# (ccache's standard_settings). Every edgeshake target links it PRIVATE.
add_library(standard_settings INTERFACE)
target_compile_options(standard_settings INTERFACE -Wall -Wextra -Werror -Wpedantic)
target_compile_definitions(standard_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

if(EDGESHAKE_SANITIZE)
  string(REPLACE ";" "," _es_san "${EDGESHAKE_SANITIZE}")
  target_compile_options(standard_settings INTERFACE
    -fsanitize=${_es_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(standard_settings INTERFACE -fsanitize=${_es_san})
endif()
