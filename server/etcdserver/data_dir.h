// The layout of a member's data directory. One place, so tools, tests and the
// operator agree on where things live.
//
//   <data-dir>/member/wal/        Raft WAL segments (or --wal-dir)
//   <data-dir>/member/mvcc/kv.db  SQLite MVCC store (its own -wal/-shm files beside it)
//   <data-dir>/member/snap/       snapshots being sent or received, client snapshot copies
//   <data-dir>/member/LOCK        held (flock) while a server runs on this directory
#pragma once

#include <string>

namespace cairn::etcdserver {

struct DataDir {
  std::string root;
  std::string wal_override;  // --wal-dir; empty = default location

  std::string MemberDir() const { return root + "/member"; }
  std::string WalDir() const { return wal_override.empty() ? MemberDir() + "/wal" : wal_override; }
  std::string MvccDir() const { return MemberDir() + "/mvcc"; }
  std::string MvccPath() const { return MvccDir() + "/kv.db"; }
  std::string SnapDir() const { return MemberDir() + "/snap"; }
  std::string LockPath() const { return MemberDir() + "/LOCK"; }
};

}  // namespace cairn::etcdserver
