#include "cmd/output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgeshake::cmd {

StdoutError::StdoutError(int error)
    : std::runtime_error(std::string("stdout: write error: ") + std::strerror(error)),
      m_error(error) {}

namespace {

[[noreturn]] void fail_stdout() {
  const int e = errno != 0 ? errno : EIO;
  std::clearerr(stdout);
  throw StdoutError(e);
}

// After a record was cut (a full disk, a file size limit): on a regular file
// whose end is still where this record's partial bytes end (nobody appended
// since), those bytes are cut off again, so the file keeps whole lines only.
void drop_partial(std::size_t partial) {
  struct stat st {};
  if (partial == 0 || ::fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
    return;
  const off_t end = ::lseek(STDOUT_FILENO, 0, SEEK_CUR);
  if (end == st.st_size && end >= static_cast<off_t>(partial))
    (void)::ftruncate(STDOUT_FILENO, end - static_cast<off_t>(partial));
}

} // namespace

void write_stdout(std::string_view text) {
  if (text.empty())
    return;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::ferror(stdout))
    fail_stdout();
}

void flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    fail_stdout();
}

void write_stdout_record(std::string_view record) {
  flush_stdout();
  std::size_t done = 0;
  while (done < record.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int e = n < 0 ? errno : ENOSPC;
      drop_partial(done);
      throw StdoutError(e);
    }
    done += static_cast<std::size_t>(n);
  }
}

void write_stderr(std::string_view text) noexcept {
  // Unbuffered stderr: one fwrite, its result ignored (EBADF, ENOSPC, EPIPE).
  if (!text.empty())
    (void)std::fwrite(text.data(), 1, text.size(), stderr);
  std::clearerr(stderr);
}

std::string stdout_error_text(const StdoutError& e) {
  if (e.error() == EPIPE)
    return {};
  return std::string("edgeshake: ") + e.what() + "\n";
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace edgeshake::cmd
