// HealthServer: the operator's HTTP endpoints on --http-address:
//   GET /healthz  200 "ok" while the process serves at all (liveness);
//   GET /readyz   200 when Probes::ready() says so, else 503 (readiness);
//   GET /metrics  Prometheus text format 0.0.4 from Probes::metrics();
// anything else is 404. Served by cpprestsdk's http_listener on its own threads.
// Thread-safety: the probes are called from listener threads and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace cairn::op {

struct Probes {
  std::function<bool()> ready;
  std::function<std::string()> metrics;
};

class HealthServer {
 public:
  // address: "host:port" (e.g. "0.0.0.0:8080").
  static Result<std::unique_ptr<HealthServer>> Start(const std::string& address, Probes probes);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

 private:
  class Impl;
  explicit HealthServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::op
