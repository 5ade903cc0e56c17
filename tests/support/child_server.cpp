#include "tests/support/child_server.hpp"

namespace edgeshake::testing {

LogWait wait_for_log(Process& process, const std::function<bool(const std::string&)>& ready,
                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ready(process.log()))
      return LogWait::ready;
    if (!process.running())
      return ready(process.log()) ? LogWait::ready : LogWait::exited;
    if (std::chrono::steady_clock::now() >= deadline)
      return LogWait::timed_out;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace edgeshake::testing
