// Helpers shared by the config tests: run LoadConfig on a flag list, and temp files.
// Not thread-safe (temp file names are per-process counters); tests run sequentially.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "server/config/load_config.h"

namespace cairn::config::testing {

using Env = std::map<std::string, std::string>;

inline Result<LoadedConfig> Load(const std::vector<std::string>& args, const Env& env = {}) {
  return LoadConfig(args, env);
}

// The error message of a load that must fail ("" if it unexpectedly succeeded).
inline std::string LoadError(const std::vector<std::string>& args, const Env& env = {}) {
  auto r = LoadConfig(args, env);
  return r.ok() ? "" : r.status().message();
}

// Writes `text` to a fresh file under the test temp dir and returns its path.
inline std::string WriteTempFile(const std::string& text) {
  static int counter = 0;
  std::string path = ::testing::TempDir() + "cairn_config_test_" + std::to_string(::getpid()) +
                     "_" + std::to_string(counter++) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

}  // namespace cairn::config::testing
