# All dependencies are Debian 12 packages (scripts/install-deps.sh installs them).
# Third-party headers come in as SYSTEM includes so -Werror applies to our code only.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(tl-expected REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares>=1.18)

# Debian's Asio is the standalone header-only one and ships no CMake config.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(edgeshake_asio INTERFACE)
target_include_directories(edgeshake_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(edgeshake_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(edgeshake_asio INTERFACE Threads::Threads)

if(EDGESHAKE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
