// Replaying delta segments onto a restored store: the second half of a point-in-time
// restore (`cairn snapshot restore FILE --replay DELTAS`). DELTAS is one delta body
// (operator/backup/delta_segment.h, uncompressed) that starts right after the
// snapshot's revision; the operator's fetch-backup writes it, cut at the target.
//
// Each revision is applied as one write transaction, its events in order (a put with
// its value and lease, a delete of its one key), through the MVCC store's own write
// path, so the store assigns the same revision, create revision and version the source
// did; any difference (a revision that comes out other than recorded, a delete that
// finds no key, a put that finds the key in another state than its version says) means
// the deltas do not belong to this snapshot and is refused as kDataLoss.
// The whole file is read and its checksum and sequence verified before anything is
// written, so a damaged file changes nothing; a refusal while applying leaves the store
// half replayed, and the caller (restore.h) removes the data dir.
//
// Leases: the watch stream carries keys' lease IDs but not leases, so a lease granted
// after the snapshot is unknown here. A key attached to a lease the snapshot has stays
// attached (and expires with it, as in the source); a key attached to a lease the
// snapshot does not have is restored without a lease (it does not expire by itself),
// and the count of such puts is logged. Leases revoked after the snapshot stay in the
// restored lease table (their keys are deleted by the replayed deletes) until their TTL
// runs out. Users, roles and the auth switch are not in the event stream either: they
// are as of the snapshot.
// Thread-safety: REQUIRES exclusive use of the store (offline, no ApplyBatch open).
#pragma once

#include <cstdint>
#include <string>

#include "server/common/status.h"
#include "server/mvcc/store.h"

namespace cairn::etcdserver {

struct ReplayResult {
  int64_t revisions = 0;        // applied
  int64_t unleased_puts = 0;    // puts whose lease the snapshot does not have
};

Result<ReplayResult> ReplayDeltas(mvcc::Store& store, const std::string& path);

}  // namespace cairn::etcdserver
