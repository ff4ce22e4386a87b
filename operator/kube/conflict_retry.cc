#include "operator/kube/conflict_retry.h"

namespace cairn::op::kube {

Result<nlohmann::json> UpdateWithRetry(Client& client, const ResourceType& type, const std::string& ns,
                                       const std::string& name, const std::function<bool(nlohmann::json&)>& mutate,
                                       Subresource sub, int attempts) {
  Status last;
  for (int i = 0; i < attempts; ++i) {
    auto live = client.Get(type, ns, name);
    if (!live.ok()) return live.status();
    nlohmann::json obj = *live;
    if (!mutate(obj)) return *live;
    auto written = sub == Subresource::kStatus ? client.UpdateStatus(type, ns, obj) : client.Update(type, ns, obj);
    if (written.ok() || written.status().code() != StatusCode::kAborted) return written;
    last = written.status();
  }
  return last;
}

}  // namespace cairn::op::kube
