// Client: typed-free (JSON) access to the Kubernetes REST API over cpprestsdk.
//
// Every call has a deadline (ClientOptions::timeout; a watch gets its server-side
// timeoutSeconds plus that much slack as an inactivity bound) and returns errors as
// values mapped by api_error.h. Nothing is retried here: conflict retry and backoff are
// the caller's policy (conflict_retry.h, informer.h). Updates are optimistic: the
// object's metadata.resourceVersion is sent as the precondition, so a stale write fails
// with kAborted instead of overwriting someone else's change.
// Thread-safety: all methods may be called concurrently; Watch blocks its caller until
// the stream ends, fails, or the stop token is triggered.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_config.h"
#include "operator/kube/resource.h"
#include "server/common/status.h"

namespace cairn::op::kube {

struct ClientOptions {
  std::chrono::milliseconds timeout{10000};
  // How long a token read from KubeConfig::token_file is used before rereading it.
  std::chrono::seconds token_reload{60};
};

struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // of the list: where a following watch starts
};

struct WatchOptions {
  std::string resource_version;  // exclusive start; empty: current state as ADDED first
  std::string label_selector;
  bool bookmarks = true;
  int timeout_seconds = 300;  // server closes the stream after this (clients then resume)
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK (ERROR is returned as a Status)
  nlohmann::json object;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(const KubeConfig& config, const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<nlohmann::json> Get(const ResourceType& type, const std::string& ns, const std::string& name);
  Result<ListResult> List(const ResourceType& type, const std::string& ns, const std::string& label_selector = "");
  Result<nlohmann::json> Create(const ResourceType& type, const std::string& ns, const nlohmann::json& object);
  // PUT of the whole object (name from metadata.name); .status is ignored by the server
  // for types with a status subresource.
  Result<nlohmann::json> Update(const ResourceType& type, const std::string& ns, const nlohmann::json& object);
  // PUT .../status: only .status of `object` is applied.
  Result<nlohmann::json> UpdateStatus(const ResourceType& type, const std::string& ns, const nlohmann::json& object);
  // RFC 7386 JSON merge patch (application/merge-patch+json).
  Result<nlohmann::json> MergePatch(const ResourceType& type, const std::string& ns, const std::string& name,
                                    const nlohmann::json& patch);
  // Deletes with background propagation (children go to the garbage collector). With a
  // `uid`, only that incarnation of the object: another one under the same name (a pod
  // re-created meanwhile) is left alone and the call fails with kAborted (409 Conflict).
  Status Delete(const ResourceType& type, const std::string& ns, const std::string& name, const std::string& uid = "");

  // Streams events to `on_event` until the server ends the stream (returns OK: resume
  // from the last seen resourceVersion), `stop` is requested (OK), or an error: an
  // ERROR event or HTTP 410 meaning the start version is no longer served becomes
  // kOutOfRange (the caller must re-list).
  Status Watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
               const std::function<void(const WatchEvent&)>& on_event, std::stop_token stop = {});

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::op::kube
