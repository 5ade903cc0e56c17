# es_embed_files(OUTPUT <cpp> SYMBOL <name> FILES <f>...)
# Generates a .cpp that defines
#   const std::vector<std::pair<std::string_view, std::string_view>> <name>
# of (file name, file content), so bundled data (profiles, CDN ranges) ships
# inside the binary and the binary runs from anywhere.
function(es_embed_files)
  cmake_parse_arguments(E "" "OUTPUT;SYMBOL;NAMESPACE" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL}
            -DNAMESPACE=${E_NAMESPACE} "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${E_SYMBOL}"
    VERBATIM)
endfunction()
