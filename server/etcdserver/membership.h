// Membership: who is in the cluster, with names and URLs, as of the last applied entry.
//
// Raft knows members only by ID; this adds what clients and the peer transport need.
// It changes only when the apply loop applies a conf-change entry (whose context is a
// serialized cairnpb.Member) or a MemberAttributes request, and is persisted with the
// batch that applied the change (Encode() into the store's meta table), so it survives
// log compaction and restarts.
// Thread-safety: all methods are thread-safe (one internal mutex); readers get copies.
// Invariant: an ID is never both a member and removed.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cairn/internal.pb.h"
#include "server/common/status.h"
#include "server/raft/conf_change.h"

namespace cairn::etcdserver {

class Membership {
 public:
  // Restores from Encode()'s output; an empty string is the empty membership.
  [[nodiscard]] Status Restore(const std::string& encoded);
  std::string Encode() const;

  // Applies a committed conf change. A change that Raft applies but that makes no
  // sense here (e.g. adding a removed ID) is an invariant violation upstream, so
  // it returns an error for the caller to abort on.
  [[nodiscard]] Status Apply(const raft::ConfChange& cc);
  void SetAttributes(const cairnpb::MemberAttributes& attributes);
  void SetPeerUrls(uint64_t id, const std::vector<std::string>& peer_urls);

  std::vector<cairnpb::Member> List() const;  // sorted by ID
  std::optional<cairnpb::Member> Get(uint64_t id) const;
  bool IsRemoved(uint64_t id) const;
  bool IsLearner(uint64_t id) const;

 private:
  mutable std::mutex mu_;
  cairnpb::Membership state_;  // guarded by mu_; members sorted by ID
};

// The context of a conf change that adds `member`.
std::string EncodeMemberContext(const cairnpb::Member& member);

}  // namespace cairn::etcdserver
