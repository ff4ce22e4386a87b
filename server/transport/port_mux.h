// PortMux: one plaintext TCP port for both gRPC and HTTP/1.1, as etcd serves its
// gateway, /health and /version on the client URLs next to gRPC (etcd uses cmux).
//
// It binds the listen addresses itself and accepts connections; for each one it peeks
// at the first bytes the client sends: the HTTP/2 connection preface ("PRI * HTTP/2.0")
// means gRPC, and the socket is handed to `on_grpc` (which gives it to the gRPC server);
// anything else is HTTP/1.x and goes to `on_http` on a thread of its own. A connection
// that sends nothing within kSniffTimeout is closed.
// Thread-safety: Start/Stop from one thread. The callbacks run on PortMux threads and
// own the fd they are given. Stop() closes the listeners, shuts down open HTTP
// connections and joins every thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/common/status.h"

namespace cairn::transport {

class PortMux {
 public:
  static constexpr std::chrono::seconds kSniffTimeout{10};

  // `host_ports` are "host:port" (ListenAddress of http:// URLs).
  static Result<std::unique_ptr<PortMux>> Start(const std::vector<std::string>& host_ports,
                                                std::function<void(int fd)> on_grpc,
                                                std::function<void(int fd)> on_http);
  ~PortMux();
  PortMux(const PortMux&) = delete;
  PortMux& operator=(const PortMux&) = delete;

  void Stop();

 private:
  PortMux(std::function<void(int)> on_grpc, std::function<void(int)> on_http)
      : on_grpc_(std::move(on_grpc)), on_http_(std::move(on_http)) {}
  void Accept(int listen_fd);
  void Route(uint64_t serial, int fd);
  void Finish(uint64_t serial);
  // REQUIRES: mu_ held. Joins the connection threads that have finished.
  void ReapLocked();

  const std::function<void(int)> on_grpc_;
  const std::function<void(int)> on_http_;
  std::vector<int> listen_fds_;
  std::vector<std::thread> acceptors_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::set<int> open_fds_;                      // guarded by mu_: being sniffed or served over HTTP
  std::map<uint64_t, std::thread> connections_;  // guarded by mu_
  std::vector<uint64_t> finished_;               // guarded by mu_: threads of connections_ that are done
  uint64_t next_serial_ = 0;                     // guarded by mu_
};

}  // namespace cairn::transport
