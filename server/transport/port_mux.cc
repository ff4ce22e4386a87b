#include "server/transport/port_mux.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace cairn::transport {
namespace {

Result<int> Listen(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("listen address " + host_port + " has no port");
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return Status::InvalidArgument("cannot resolve listen address " + host_port);
  }
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  const int one = 1;
  const bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
                  bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 1024) == 0;
  const std::string error = std::strerror(errno);
  freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) close(fd);
    return Status::Unavailable(host_port + ": " + error);
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<PortMux>> PortMux::Start(const std::vector<std::string>& host_ports,
                                                std::function<void(int fd)> on_grpc,
                                                std::function<void(int fd)> on_http) {
  std::unique_ptr<PortMux> mux(new PortMux(std::move(on_grpc), std::move(on_http)));
  for (const auto& hp : host_ports) {
    auto fd = Listen(hp);
    if (!fd.ok()) return fd.status();  // ~PortMux closes the ones already bound
    mux->listen_fds_.push_back(*fd);
  }
  for (int fd : mux->listen_fds_) mux->acceptors_.emplace_back([m = mux.get(), fd] { m->Accept(fd); });
  return mux;
}

PortMux::~PortMux() { Stop(); }

void PortMux::Stop() {
  if (stopping_.exchange(true)) return;
  // Wakes the acceptors (accept() fails on a shut-down listener) and the HTTP handlers.
  for (int fd : listen_fds_) shutdown(fd, SHUT_RDWR);
  for (auto& t : acceptors_) t.join();
  for (int fd : listen_fds_) close(fd);
  std::map<uint64_t, std::thread> connections;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    connections.swap(connections_);
    finished_.clear();
  }
  for (auto& [serial, t] : connections) t.join();
}

void PortMux::ReapLocked() {
  for (uint64_t serial : finished_) {
    auto it = connections_.find(serial);
    it->second.join();  // at most the few instructions after Finish() are left
    connections_.erase(it);
  }
  finished_.clear();
}

void PortMux::Finish(uint64_t serial) {
  std::lock_guard lock(mu_);
  if (connections_.count(serial) != 0) finished_.push_back(serial);
}

void PortMux::Accept(int listen_fd) {
  while (!stopping_.load()) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      return;
    }
    std::lock_guard lock(mu_);
    if (stopping_.load()) {
      close(fd);
      return;
    }
    ReapLocked();
    open_fds_.insert(fd);
    const uint64_t serial = next_serial_++;
    connections_.emplace(serial, std::thread([this, serial, fd] { Route(serial, fd); }));
  }
}

void PortMux::Route(uint64_t serial, int fd) {
  // gRPC clients speak first: the HTTP/2 preface starts with "PRI".
  char head[3] = {};
  ssize_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + kSniffTimeout;
  while (got < 3) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    got = recv(fd, head, sizeof(head), MSG_PEEK);
    if (got <= 0) break;
    if (got < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const bool grpc = got == 3 && std::memcmp(head, "PRI", 3) == 0;
  {
    std::lock_guard lock(mu_);
    if (grpc) open_fds_.erase(fd);
  }
  if (grpc) {
    // gRPC's poller reads until EAGAIN: a blocking socket would stall its thread.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    on_grpc_(fd);
  } else {
    if (got > 0 && !stopping_.load()) on_http_(fd);
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
    close(fd);
  }
  Finish(serial);
}

}  // namespace cairn::transport
