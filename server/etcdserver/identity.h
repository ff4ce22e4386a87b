// Member and cluster identity, derived the way etcd derives them so that IDs are
// stable across restarts and identical on every member that was given the same
// --initial-cluster and --initial-cluster-token.
//
//   member ID  = first 8 bytes (big-endian) of SHA-1(sorted peer URLs joined + token)
//   cluster ID = first 8 bytes (big-endian) of SHA-1(sorted member IDs, 8 bytes each)
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::etcdserver {

uint64_t ComputeMemberId(std::vector<std::string> peer_urls, const std::string& cluster_token);
uint64_t ComputeClusterId(std::vector<uint64_t> member_ids);

// The WAL's metadata record: who this data directory belongs to. A member refuses
// to start on a data dir whose identity does not match its own configuration.
struct MemberIdentity {
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;

  std::string Encode() const;
  // Returns false when `bytes` is not an encoded identity.
  bool Decode(const std::string& bytes);
};

std::string HexId(uint64_t id);

}  // namespace cairn::etcdserver
