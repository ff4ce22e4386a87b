// The etcd v3 KV service (Range, Put, DeleteRange, Txn, Compact) over one member.
//
// Mutations are validated here (etcd's argument errors), checked against the space
// quota, then replicated through EtcdServer::Propose. Reads are linearizable by
// default (ReadIndex barrier first) and served from the local store when the client
// asks for serializable. Read-only txns take the read path, not the log.
// Thread-safety: called concurrently by gRPC worker threads; holds no state of its own.
#pragma once

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class KvService final : public etcdserverpb::KV::Service {
 public:
  explicit KvService(etcdserver::EtcdServer* server) : server_(server) {}

  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest*, etcdserverpb::RangeResponse*) override;
  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest*, etcdserverpb::PutResponse*) override;
  grpc::Status DeleteRange(grpc::ServerContext*, const etcdserverpb::DeleteRangeRequest*,
                           etcdserverpb::DeleteRangeResponse*) override;
  grpc::Status Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest*, etcdserverpb::TxnResponse*) override;
  grpc::Status Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest*,
                       etcdserverpb::CompactionResponse*) override;

 private:
  // Replicates `request`, waits until it is applied, and moves its response (of type
  // Response) into `response` with a full header.
  template <typename Response>
  grpc::Status ReplicateInto(cairnpb::RaftRequest request, Response* response);
  Status CheckQuota() const;
  void FillHeader(etcdserverpb::ResponseHeader* header) const;

  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
