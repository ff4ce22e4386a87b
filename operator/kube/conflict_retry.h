// UpdateWithRetry: optimistic read-modify-write. Reads the live object, lets `mutate`
// edit it (returning false means "already as wanted": no write), and writes it back with
// the resourceVersion it read as precondition. A 409 Conflict (kAborted: someone else
// wrote in between) re-reads and re-applies `mutate`, up to `attempts` times, as
// client-go's retry.RetryOnConflict. `mutate` must therefore be a pure function of the
// object it is given. Other errors are returned at once.
// Thread-safety: as Client.
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"

namespace cairn::op::kube {

enum class Subresource { kMain, kStatus };

Result<nlohmann::json> UpdateWithRetry(Client& client, const ResourceType& type, const std::string& ns,
                                       const std::string& name, const std::function<bool(nlohmann::json&)>& mutate,
                                       Subresource sub = Subresource::kMain, int attempts = 5);

}  // namespace cairn::op::kube
