// What retention and crash recovery remove from a store, shared by the operator (S3
// destinations) and the backup Pod (PVC destinations, cmd/backup_to_dir.h), so both
// remove the same things in the same order.
//   * ObjectsWithoutManifest: keys under a cluster's prefix that are no backup: an object
//     whose manifest is missing (a run cut off between its object and its manifest).
//     Delta segments have no manifest and are complete by construction: never listed.
//     REQUIRES: no backup of that cluster is running (its object briefly lacks a manifest).
//   * ExpireFullBackup: the manifest first, then the object: an interrupted expiry leaves
//     an object that is no backup, never a manifest pointing at nothing.
// Thread-safety: as the ObjectStore given.
#pragma once

#include <string>
#include <vector>

#include "operator/backup/object_store.h"

namespace cairn::op::backup {

std::vector<std::string> ObjectsWithoutManifest(const std::vector<std::string>& keys, const std::string& prefix);
Status ExpireFullBackup(ObjectStore& store, const std::string& object);

}  // namespace cairn::op::backup
