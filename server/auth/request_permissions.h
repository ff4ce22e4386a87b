// Which permissions a KV or lease request needs, checked against the auth store: etcd's
// authApplierV3 rules, applied to every part of a request.
//   Range                read on [key, range_end)
//   Put                  write on key; read on key with prev_kv; write on every key
//                        already attached to the put's lease (whoever attaches a key to
//                        a lease could otherwise revoke it and delete keys they may not
//                        write)
//   DeleteRange          write on the range; read on it too with prev_kv
//   Txn                  read on every compare's range; every op of both branches as
//                        above, nested txns included
//   LeaseRevoke          write on every key attached to the lease
//   LeaseTimeToLive      read on every key attached to the lease
// Thread-safety: pure functions over a thread-safe store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cairn/internal.pb.h"
#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/auth/auth_store.h"

namespace cairn::auth {

// The keys attached to a lease (none if it does not exist).
using LeaseKeys = std::function<std::vector<std::string>(int64_t lease)>;

Status CheckRange(const AuthStore& store, const AuthInfo& info, const etcdserverpb::RangeRequest& request);
Status CheckTxn(const AuthStore& store, const AuthInfo& info, const etcdserverpb::TxnRequest& request,
                const LeaseKeys& lease_keys);
Status CheckLeaseKeys(const AuthStore& store, const AuthInfo& info, int64_t lease, const LeaseKeys& lease_keys,
                      bool write);
// For an applied Raft request carrying a put, delete_range, txn or lease_revoke (Ok for
// any other kind): the rules above, as of the store's state when it is applied.
Status CheckWrite(const AuthStore& store, const AuthInfo& info, const cairnpb::RaftRequest& request,
                  const LeaseKeys& lease_keys);

}  // namespace cairn::auth
