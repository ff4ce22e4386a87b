// Informer: a local cache of one resource type kept current by list + watch, as
// client-go's reflector does:
//   * list, remember the list's resourceVersion, watch from it (bookmarks requested);
//   * every event — BOOKMARK included — advances the resume version, so a watch the
//     server ends (timeoutSeconds, restart) resumes where it left off without a re-list,
//     even after the server's history window moved past the last real change;
//   * a start version the server no longer has (410 Gone / Expired) re-lists at once and
//     reports the difference to the handler (DELETED for what vanished);
//   * other failures back off (capped exponential, jittered) and retry.
// The handler runs on the informer's thread after the cache is updated; it must be quick
// (typically: enqueue a key).
// Thread-safety: Run on one thread; the cache accessors are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"

namespace cairn::op::kube {

struct InformerOptions {
  std::string ns;  // empty: all namespaces
  std::string label_selector;
  bool bookmarks = true;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
};

class Informer {
 public:
  // event type ("ADDED", "MODIFIED", "DELETED") and the object (the last known state for DELETED).
  using Handler = std::function<void(const std::string& type, const nlohmann::json& object)>;

  Informer(Client& client, ResourceType type, InformerOptions options, Handler handler);

  void Run(std::stop_token stop);  // returns when stop is requested

  bool HasSynced() const { return synced_; }
  std::optional<nlohmann::json> Get(const std::string& ns, const std::string& name) const;
  std::vector<nlohmann::json> List(const std::string& ns = "") const;
  std::string resource_version() const;
  int lists() const { return lists_; }  // successful lists so far (1 + re-lists)

 private:
  Status ListAndReplace();
  void Apply(const std::string& type, const nlohmann::json& object);
  bool Sleep(std::stop_token stop, std::chrono::milliseconds d);

  Client& client_;
  const ResourceType type_;
  const InformerOptions options_;
  const Handler handler_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  std::map<std::string, nlohmann::json> cache_;  // "ns/name"
  std::string rv_;
  std::atomic<bool> synced_{false};
  std::atomic<int> lists_{0};
};

}  // namespace cairn::op::kube
