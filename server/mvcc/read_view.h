// ReadView: the read interface transaction logic (compares, ranges inside a txn) needs,
// implemented both by a read-only snapshot (ReadTxn) and by an open write request
// (WriteTxn, which sees its own earlier writes). Not thread-safe: a view belongs to the
// thread that opened it.
#pragma once

#include <cstdint>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"

namespace cairn::mvcc {

class ReadView {
 public:
  virtual ~ReadView() = default;
  // The revision a read at "latest" observes through this view.
  virtual int64_t Revision() const = 0;
  // Reads below this revision fail with the compacted error.
  virtual int64_t CompactRevision() const = 0;
  // etcd Range semantics (see kv_reader.h). Fills kvs, more, count, header.revision.
  virtual Status Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) = 0;
};

}  // namespace cairn::mvcc
