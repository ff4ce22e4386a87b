#include "server/etcdserver/alarms.h"

#include <algorithm>

namespace cairn::etcdserver {
namespace {

bool Less(const etcdserverpb::AlarmMember& a, const etcdserverpb::AlarmMember& b) {
  return a.memberid() != b.memberid() ? a.memberid() < b.memberid() : a.alarm() < b.alarm();
}

bool Same(const etcdserverpb::AlarmMember& a, const etcdserverpb::AlarmMember& b) {
  return a.memberid() == b.memberid() && a.alarm() == b.alarm();
}

bool TxnPuts(const etcdserverpb::TxnRequest& txn) {
  for (const auto* ops : {&txn.success(), &txn.failure()}) {
    for (const auto& op : *ops) {
      if (op.has_request_put() || (op.has_request_txn() && TxnPuts(op.request_txn()))) return true;
    }
  }
  return false;
}

}  // namespace

bool GrowsDatabase(const cairnpb::RaftRequest& request) {
  return request.has_put() || request.has_lease_grant() || (request.has_txn() && TxnPuts(request.txn()));
}

Status Alarms::Restore(const std::string& encoded) {
  etcdserverpb::AlarmResponse set;
  if (!set.ParseFromString(encoded)) return Status::DataLoss("undecodable alarm set in the store");
  std::lock_guard lock(mu_);
  alarms_.assign(set.alarms().begin(), set.alarms().end());
  std::sort(alarms_.begin(), alarms_.end(), Less);
  raised_.store(!alarms_.empty(), std::memory_order_release);
  return Status::Ok();
}

std::string Alarms::Encode() const {
  etcdserverpb::AlarmResponse set;
  std::lock_guard lock(mu_);
  for (const auto& a : alarms_) *set.add_alarms() = a;
  return set.SerializeAsString();
}

bool Alarms::Apply(const etcdserverpb::AlarmRequest& request, etcdserverpb::AlarmResponse* response) {
  etcdserverpb::AlarmMember alarm;
  alarm.set_memberid(request.memberid());
  alarm.set_alarm(request.alarm());
  std::lock_guard lock(mu_);
  const auto at = std::lower_bound(alarms_.begin(), alarms_.end(), alarm, Less);
  const bool present = at != alarms_.end() && Same(*at, alarm);
  switch (request.action()) {
    case etcdserverpb::AlarmRequest::GET:
      for (const auto& a : alarms_) {
        if (request.alarm() == etcdserverpb::NONE || a.alarm() == request.alarm()) *response->add_alarms() = a;
      }
      return false;
    case etcdserverpb::AlarmRequest::ACTIVATE:
      if (request.alarm() == etcdserverpb::NONE || present) return false;
      alarms_.insert(at, alarm);
      raised_.store(true, std::memory_order_release);
      *response->add_alarms() = alarm;
      return true;
    case etcdserverpb::AlarmRequest::DEACTIVATE:
      if (!present) return false;
      alarms_.erase(at);
      raised_.store(!alarms_.empty(), std::memory_order_release);
      *response->add_alarms() = alarm;
      return true;
    default:
      return false;
  }
}

bool Alarms::Raised(etcdserverpb::AlarmType type) const {
  if (!raised_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  return std::any_of(alarms_.begin(), alarms_.end(), [&](const auto& a) { return a.alarm() == type; });
}

std::vector<etcdserverpb::AlarmMember> Alarms::List() const {
  std::lock_guard lock(mu_);
  return alarms_;
}

std::string Alarms::Describe(const etcdserverpb::AlarmMember& alarm) {
  return "memberID:" + std::to_string(alarm.memberid()) + " alarm:" + etcdserverpb::AlarmType_Name(alarm.alarm()) +
         " ";
}

}  // namespace cairn::etcdserver
