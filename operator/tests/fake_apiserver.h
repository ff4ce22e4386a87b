// FakeApiServer: an in-process HTTP/1.1 server on 127.0.0.1 that answers the subset of
// the Kubernetes REST API the operator uses, with the semantics the operator relies on:
//   * one cluster-wide resourceVersion counter (as etcd's revision), bumped on writes;
//   * PUT/PATCH with a stale metadata.resourceVersion -> 409 Conflict; PUT of a custom
//     resource without one -> 422 Invalid (built-in types allow unconditional updates);
//   * types with a status subresource: the main endpoint ignores .status, PUT .../status
//     changes only .status; metadata.generation starts at 1 and is bumped only when
//     something outside metadata and status changes; a no-op update changes nothing;
//   * POST of an existing name -> 409 AlreadyExists; missing -> 404 NotFound; errors are
//     metav1.Status bodies; requests without "Authorization: Bearer <token>" -> 401;
//   * list returns the collection's resourceVersion; watch streams newline-delimited
//     JSON events (chunked), BOOKMARK on request (allowWatchBookmarks=true and Bookmark()),
//     and a start version older than the last Compact() gets an ERROR event carrying a
//     410 Expired Status (or, with Options::expiry_as_http_410, an HTTP 410 response);
//   * delete of an object with finalizers only sets deletionTimestamp;
//   * core/v1 Events are an ordinary namespaced resource (create, merge-patch, list),
//     and a create whose involvedObject.namespace differs from its own is 422 Invalid.
// Test hooks write objects directly (as kubelet or another controller would), inject
// errors and end watch streams. Optionally serves HTTPS. Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_config.h"
#include "operator/kube/resource.h"

namespace cairn::op::testing {

class FakeApiServer {
 public:
  struct Options {
    std::string token = "test-token";
    bool expiry_as_http_410 = false;
    // When set, serves HTTPS with this certificate (PEM) instead of plain HTTP.
    std::string tls_cert_pem, tls_key_pem;
  };
  FakeApiServer();
  explicit FakeApiServer(Options options);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const;
  kube::KubeConfig Config() const;  // url + token (and the certificate as CA with TLS)

  // Direct writes that bypass preconditions and subresource rules (status included).
  nlohmann::json Upsert(const kube::ResourceType& type, const std::string& ns, nlohmann::json object);
  void Remove(const kube::ResourceType& type, const std::string& ns, const std::string& name);
  std::optional<nlohmann::json> Object(const kube::ResourceType& type, const std::string& ns,
                                       const std::string& name) const;
  std::vector<nlohmann::json> Objects(const kube::ResourceType& type, const std::string& ns) const;

  void Bookmark();        // a BOOKMARK at the current resourceVersion to every bookmarking watch
  void Compact();         // history before now is gone: older watch starts get 410
  void CloseWatches();    // ends every open watch stream (as its timeout would)
  // The next `times` requests whose "METHOD path" starts with `prefix` fail with `code`.
  // Watches match as "WATCH <path>".
  void InjectError(const std::string& prefix, int code, const std::string& reason, int times = 1);
  void ClearInjectedErrors();

  int64_t resource_version() const;
  int CountRequests(const std::string& prefix) const;
  // Every (API group, resource[/subresource], verb) a request has used, as RBAC names them.
  struct RbacUse {
    std::string group, resource, verb;
    auto operator<=>(const RbacUse&) const = default;
  };
  std::set<RbacUse> RbacUses() const;  // "GET /api/v1/...", "WATCH /api/v1/..."
  int open_watches() const;

 private:
  struct Request;
  struct Reply;
  struct Conn;
  struct Event {
    int64_t rv;
    std::string collection;  // api prefix + "|" + plural
    std::string ns;
    std::string type;
    nlohmann::json object;
  };

  void AcceptLoop();
  void Serve(int fd, uint64_t id);
  Reply Handle(const Request& req);
  void ServeWatch(Conn& conn, const Request& req, const kube::ResourceType& type, const std::string& ns);
  nlohmann::json CommitLocked(const std::string& key, const kube::ResourceType& type, const std::string& ns,
                              nlohmann::json object, const char* event_type);

  const Options options_;
  void* tls_ = nullptr;  // SSL_CTX*, kept opaque so tests need no OpenSSL headers
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, nlohmann::json> objects_;  // key: collection|ns|name
  std::vector<Event> history_;
  int64_t rv_ = 1;
  int64_t compacted_rv_ = 0;
  int64_t uid_seq_ = 0;
  uint64_t bookmark_gen_ = 0;
  uint64_t close_gen_ = 0;
  int open_watches_ = 0;
  std::vector<std::string> log_;
  std::set<RbacUse> rbac_uses_;
  struct Injected {
    std::string prefix;
    int code;
    std::string reason;
    int times;
  };
  std::vector<Injected> injected_;
  std::set<int> conns_;
  std::map<uint64_t, std::thread> workers_;  // connection threads by id
  std::vector<uint64_t> finished_;            // ids whose thread is done, to join
  uint64_t next_worker_ = 0;
};

}  // namespace cairn::op::testing
