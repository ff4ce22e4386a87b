#include "server/etcdserver/lease_forwarding.h"

#include <utility>

#include "server/etcdserver/errors.h"
#include "server/etcdserver/identity.h"

namespace cairn::etcdserver {
namespace {

// The leader refuses a forwarded call with FailedPrecondition once it is no longer
// leader; the client is told to retry.
Status ForwardingError(const Status& st) {
  return st.code() == StatusCode::kFailedPrecondition ? ErrLeaderChanged() : st;
}

}  // namespace

LeaseForwarding::LeaseForwarding(Parts parts) : parts_(std::move(parts)) {}

Status LeaseForwarding::NotLeader() const {
  return Status::FailedPrecondition("member " + HexId(parts_.self) + " is not the leader");
}

Result<int64_t> LeaseForwarding::Renew(int64_t id) {
  auto leader = parts_.leader();
  if (!leader.ok()) return leader.status();
  if (leader->is_self) return parts_.lessor->Renew(id);
  auto ttl = parts_.client->Renew(leader->peer_urls, id, parts_.timeout);
  if (!ttl.ok()) return ForwardingError(ttl.status());
  return ttl;
}

Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseForwarding::TimeToLive(
    const etcdserverpb::LeaseTimeToLiveRequest& request) {
  auto leader = parts_.leader();
  if (!leader.ok()) return leader.status();
  if (leader->is_self) return TimeToLiveAsLeader(request);
  auto answer = parts_.client->TimeToLive(leader->peer_urls, request, parts_.timeout);
  if (!answer.ok()) return ForwardingError(answer.status());
  return answer;
}

Result<int64_t> LeaseForwarding::RenewAsLeader(int64_t id) {
  auto leader = parts_.leader();
  if (!leader.ok() || !leader->is_self) return NotLeader();
  return parts_.lessor->Renew(id);
}

Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseForwarding::TimeToLiveAsLeader(
    const etcdserverpb::LeaseTimeToLiveRequest& request) {
  auto leader = parts_.leader();
  if (!leader.ok() || !leader->is_self) return NotLeader();
  // The lease and its keys as of every write committed before the question.
  CAIRN_RETURN_IF_ERROR(parts_.read_barrier());
  etcdserverpb::LeaseTimeToLiveResponse response;
  response.set_id(request.id());
  auto ttl = parts_.lessor->TimeToLive(request.id(), request.keys());
  if (!ttl) {
    response.set_ttl(-1);  // etcd's answer for a lease that does not exist (any more)
  } else {
    response.set_ttl(ttl->remaining_ttl);
    response.set_grantedttl(ttl->granted_ttl);
    for (auto& key : ttl->keys) response.add_keys(std::move(key));
  }
  return response;
}

}  // namespace cairn::etcdserver
