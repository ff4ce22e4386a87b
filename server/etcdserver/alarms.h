// Alarms: the cluster-wide set of raised alarms (etcd's alarm store), e.g. NOSPACE once a
// member's database reached its quota.
//
// Alarms are changed only by applying AlarmRequests from the log, so every member holds
// the same set; it is persisted in the store's meta table with the batch that changed
// it (kAlarmsMeta), so it survives restarts and travels with snapshots. While a NOSPACE
// alarm is raised, requests that would grow the database (puts, txns that write, lease
// grants) fail when applied, on every member, until someone disarms it — etcd's
// "capped" applier.
// Thread-safety: Apply/Restore run on the apply thread; the readers may run on any
// thread. mu_ guards alarms_; raised_ mirrors whether it is empty, so that the check on
// every put and every applied entry takes no lock while no alarm is raised.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/internal.pb.h"
#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"

namespace cairn::etcdserver {

// Whether applying `request` may grow the database, which a NOSPACE alarm refuses
// (etcd's capped applier): a put, a txn with a put in any branch, a lease grant.
bool GrowsDatabase(const cairnpb::RaftRequest& request);

class Alarms {
 public:
  // Replaces the set with an encoded one (Encode()); "" is the empty set.
  Status Restore(const std::string& encoded);
  std::string Encode() const;

  // etcd's applyAlarm: GET lists the alarms of the request's type (NONE = all);
  // ACTIVATE and DEACTIVATE answer with the alarm they added or removed, if any.
  // Returns whether the set changed.
  bool Apply(const etcdserverpb::AlarmRequest& request, etcdserverpb::AlarmResponse* response);

  bool Raised(etcdserverpb::AlarmType type) const;
  std::vector<etcdserverpb::AlarmMember> List() const;
  // etcd's text for Status.errors: "memberID:<decimal> alarm:NOSPACE ".
  static std::string Describe(const etcdserverpb::AlarmMember& alarm);

 private:
  mutable std::mutex mu_;
  std::vector<etcdserverpb::AlarmMember> alarms_;  // guarded by mu_; sorted by (member, type)
  std::atomic<bool> raised_{false};                // !alarms_.empty(), written under mu_
};

}  // namespace cairn::etcdserver
