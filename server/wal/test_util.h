// Helpers shared by the WAL tests. Test-only. Thread-safety: none needed.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "server/common/fs.h"
#include "server/raft/types.h"
#include "server/wal/format.h"

namespace cairn::raft {
// Readable gtest failure messages for entries.
inline void PrintTo(const Entry& e, std::ostream* os) {
  *os << "{t" << e.term << " i" << e.index << " type" << static_cast<int>(e.type) << " "
      << e.data.size() << "B}";
}
}  // namespace cairn::raft

namespace cairn::wal::testing {

inline raft::Entry MakeEntry(raft::Index index, raft::Term term, size_t size = 8) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.type = index % 7 == 0 ? raft::EntryType::kConfChange : raft::EntryType::kNormal;
  for (size_t i = 0; i < size; ++i) e.data.push_back(static_cast<char>('a' + (index + i) % 26));
  return e;
}

inline std::vector<raft::Entry> MakeEntries(raft::Index first, raft::Index last, raft::Term term,
                                            size_t size = 8) {
  std::vector<raft::Entry> out;
  for (raft::Index i = first; i <= last; ++i) out.push_back(MakeEntry(i, term, size));
  return out;
}

// Full paths of the segments in `dir`, oldest first.
inline std::vector<std::string> SegmentPaths(FileSystem* fs, const std::string& dir) {
  std::vector<std::string> out;
  auto names = fs->ListDir(dir);
  CAIRN_CHECK(names.ok());
  for (const auto& name : *names) {
    if (ParseSegmentName(name)) out.push_back(dir + "/" + name);
  }
  return out;
}

// Every file in `dir` by name, to check that a failed recovery changed nothing.
inline std::map<std::string, std::string> DirImage(FileSystem* fs, const std::string& dir) {
  std::map<std::string, std::string> out;
  auto names = fs->ListDir(dir);
  CAIRN_CHECK(names.ok());
  for (const auto& name : *names) out[name] = *fs->ReadFile(dir + "/" + name);
  return out;
}

inline void WriteFileAt(FileSystem* fs, const std::string& path, uint64_t offset,
                        const std::string& bytes) {
  auto f = fs->OpenWritable(path, offset);
  CAIRN_CHECK(f.ok() && (*f)->Append(bytes).ok() && (*f)->Sync().ok());
}

inline void FlipByte(FileSystem* fs, const std::string& path, uint64_t offset) {
  std::string b = *fs->ReadAt(path, offset, 1);
  CAIRN_CHECK(b.size() == 1);
  b[0] = static_cast<char>(b[0] ^ 0x5a);
  WriteFileAt(fs, path, offset, b);
}

}  // namespace cairn::wal::testing
