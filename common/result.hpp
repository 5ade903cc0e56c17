// Result<T> = tl::expected<T, Error> (ccache's choice; std::expected needs C++23
// on g++ 12, so moving later is an alias change).
#pragma once

#include "common/error.hpp"

#include <tl/expected.hpp>

namespace edgeshake {

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message, std::string where = {}) {
  return tl::unexpected<Error>(Error(code, std::move(message), std::move(where)));
}

} // namespace edgeshake
