// The documented exit codes (docs/cli.md). Every command uses these four.
#pragma once

namespace edgeshake {

inline constexpr int k_exit_ok = 0;         // healthy / handshake ok / every mode ok
inline constexpr int k_exit_problem = 1;    // a failure was found or predicted
inline constexpr int k_exit_usage = 2;      // usage, input or profile error
inline constexpr int k_exit_incomplete = 3; // could not complete

} // namespace edgeshake
