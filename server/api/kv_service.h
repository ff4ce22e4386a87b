// The etcd v3 KV service (Range, Put, DeleteRange, Txn, Compact) over one member.
//
// Mutations are validated here (etcd's argument errors), checked against the space
// quota, then replicated through EtcdServer::ProposeAsync. They use gRPC's callback
// API: no thread waits for the log; the apply loop completes the RPC. Reads are
// linearizable by default (ReadIndex barrier first) and served from the local store
// when the client asks for serializable. Ranges and read-only txns take the read path,
// not the log, also through the callback API: no thread waits for a ReadIndex round
// either. A read whose read point is already reached runs at once on the gRPC thread;
// one that had to wait runs on the read executor.
// Every call is checked against the auth store for its caller (api/caller.h): reads once
// their read point is reached, writes when applied (auth/request_permissions.h).
// Thread-safety: called concurrently by gRPC threads; holds no mutable state.
#pragma once

#include <functional>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/read_executor.h"
#include "server/auth/auth_store.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

using KvServiceBase = etcdserverpb::KV::WithCallbackMethod_Range<etcdserverpb::KV::WithCallbackMethod_Put<
    etcdserverpb::KV::WithCallbackMethod_DeleteRange<etcdserverpb::KV::WithCallbackMethod_Txn<etcdserverpb::KV::Service>>>>;

class KvService final : public KvServiceBase {
 public:
  KvService(etcdserver::EtcdServer* server, ReadExecutor* reads) : server_(server), reads_(reads) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext*, const etcdserverpb::RangeRequest*,
                                  etcdserverpb::RangeResponse*) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext*, const etcdserverpb::PutRequest*,
                                etcdserverpb::PutResponse*) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext*, const etcdserverpb::DeleteRangeRequest*,
                                        etcdserverpb::DeleteRangeResponse*) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext*, const etcdserverpb::TxnRequest*,
                                etcdserverpb::TxnResponse*) override;
  grpc::Status Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest*,
                       etcdserverpb::CompactionResponse*) override;

 private:
  // Replicates `request` and finishes `reactor` when it is applied, moving the applied
  // response (of type Response) into `response` with a full header.
  template <typename Response>
  void ReplicateInto(grpc::CallbackServerContext* context, cairnpb::RaftRequest request, Response* response,
                     grpc::ServerUnaryReactor* reactor);
  // Runs `read` once the read point is reached (see above); finishes `reactor` with the
  // barrier's error instead when there is one.
  void AfterReadPoint(bool serializable, grpc::ServerUnaryReactor* reactor, std::function<void()> read);
  void ReadOnlyTxn(grpc::CallbackServerContext* context, const etcdserverpb::TxnRequest* request,
                   etcdserverpb::TxnResponse* response, grpc::ServerUnaryReactor* reactor);
  // Reads are checked once their read point is reached, against the auth store then
  // (etcd checks them the same way, outside the log).
  Status CheckRead(const grpc::CallbackServerContext& context,
                   const std::function<Status(const auth::AuthInfo&)>& check) const;

  etcdserver::EtcdServer* server_;  // not owned
  ReadExecutor* reads_;             // not owned
};

}  // namespace cairn::api
