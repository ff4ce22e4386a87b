// TempDir: a fresh directory under $TMPDIR (or /tmp) for one test, removed afterwards.
// Test-only. Thread-safety: not shared between threads.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/common/status.h"

namespace cairn {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cairn-test-XXXXXX";
    CAIRN_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace cairn
