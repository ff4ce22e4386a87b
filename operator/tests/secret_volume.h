// A Secret volume as the kubelet lays it out, for tests that run real members on the
// operator's certificates: each file is a symlink through ..data, and an update swaps
// ..data atomically to a new directory, so a reader sees the old files or the new ones,
// never a mix. ReadFile reads one back (or any other file), whole.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace cairn::op::testing {

inline void WriteSecretVolume(const std::filesystem::path& dir, const std::map<std::string, std::string>& files,
                              int generation) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const fs::path version = dir / ("..gen_" + std::to_string(generation));
  fs::create_directories(version);
  for (const auto& [name, content] : files) std::ofstream(version / name) << content;
  const fs::path tmp = dir / "..data_tmp";
  fs::remove(tmp);
  fs::create_directory_symlink(version.filename(), tmp);
  fs::rename(tmp, dir / "..data");
  for (const auto& [name, content] : files) {
    if (!fs::is_symlink(dir / name)) fs::create_symlink(fs::path("..data") / name, dir / name);
  }
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace cairn::op::testing
