// The header of every response of the etcd v3 services, filled the ways etcd does.
//
// FillHeader is etcd's v3rpc/header.go, used by the KV, Lease, Maintenance and Auth
// services (and by Lock and Election, whose handlers set the revision they answered
// at): cluster ID, member ID and Raft term always; the revision only where the handler
// left it zero (a write, or a read at its read point, keeps its own), else the member's
// current revision. FillHeaderWithoutRevision is etcd's Cluster service
// (v3rpc/member.go), whose answers carry no revision at all. Watch responses carry the
// revision of their events instead (watch_response_encoder.h).
// Thread-safety: as EtcdServer's getters, safe from any thread.
#pragma once

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

void FillHeader(const etcdserver::EtcdServer& server, etcdserverpb::ResponseHeader* header);
void FillHeaderWithoutRevision(const etcdserver::EtcdServer& server, etcdserverpb::ResponseHeader* header);

}  // namespace cairn::api
