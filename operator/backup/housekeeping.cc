#include "operator/backup/housekeeping.h"

#include <set>

#include "operator/backup/delta_segment.h"
#include "operator/backup/manifest.h"

namespace cairn::op::backup {

std::vector<std::string> ObjectsWithoutManifest(const std::vector<std::string>& keys, const std::string& prefix) {
  const std::set<std::string> present(keys.begin(), keys.end());
  std::vector<std::string> out;
  for (const auto& key : keys) {
    if (key.rfind(prefix, 0) != 0 || IsManifestName(key) || present.count(ManifestName(key))) continue;
    if (ParseDeltaSegmentName(prefix, key)) continue;
    out.push_back(key);
  }
  return out;
}

Status ExpireFullBackup(ObjectStore& store, const std::string& object) {
  CAIRN_RETURN_IF_ERROR(store.Delete(ManifestName(object)));
  return store.Delete(object);
}

}  // namespace cairn::op::backup
