// The client side of the real-process operator tests (rollout, peer TLS switch): the
// readiness check a Service routes by, and LoopbackWriter, a client writing through the
// ready members during every step, as one would through a client Service:
//   * one key at a time ("w-000000", "w-000001", ...), round robin over the members that
//     are ready now; a failed put is tried once more through the next ready member, and a
//     put that fails there too is counted and dropped;
//   * Lost() reads every "w-" key back linearizably: an acknowledged key that is missing
//     is a lost write;
//   * with `tls`, a member is dialed over TLS while tls(i) says it serves https (a client
//     TLS switch), with the given client credentials.
// Test-only. LoopbackWriter's counters may be read while it writes; acknowledged() and
// Lost() only after Stop().
#pragma once

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::op::testing {

// GET http://127.0.0.1:port/readyz answers 200: the member's readiness probe passes.
inline bool MemberReady(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET /readyz HTTP/1.1\r\nHost: member\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[64];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) reply.assign(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply.rfind("HTTP/1.1 200", 0) == 0;
}

class LoopbackWriter {
 public:
  // `endpoints`: each member's "host:port"; `ready(i)`: whether a Service would route
  // to member i now; `tls(i)`, if given: whether member i serves clients over TLS now.
  LoopbackWriter(std::vector<std::string> endpoints, std::function<bool(size_t)> ready,
                 std::function<bool(size_t)> tls = {}, grpc::SslCredentialsOptions credentials = {})
      : ready_(std::move(ready)), tls_(std::move(tls)) {
    for (auto& ep : endpoints) {
      const size_t scheme_end = ep.find("://");
      const std::string address = scheme_end == std::string::npos ? ep : ep.substr(scheme_end + 3);
      plain_.push_back(etcdserverpb::KV::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
      if (tls_) {
        secure_.push_back(etcdserverpb::KV::NewStub(grpc::CreateChannel(address, grpc::SslCredentials(credentials))));
      }
    }
  }
  ~LoopbackWriter() { Stop(); }

  void Start() {
    writer_ = std::jthread([this](std::stop_token stop) { Write(stop); });
  }
  void Stop() {
    if (!writer_.joinable()) return;
    writer_.request_stop();
    writer_.join();
  }

  const std::vector<std::string>& acknowledged() const { return acked_; }
  int first_failures() const { return first_failures_.load(); }
  int failures_after_retry() const { return failures_after_retry_.load(); }

  // The acknowledged keys a linearizable read through member i does not find, or -1
  // when the read fails.
  long Lost(size_t member) const {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    etcdserverpb::RangeRequest req;
    req.set_key("w-");
    req.set_range_end("w.");
    etcdserverpb::RangeResponse resp;
    if (!Stub(member).Range(&ctx, req, &resp).ok()) return -1;
    std::set<std::string> stored;
    for (const auto& kvs : resp.kvs()) stored.insert(kvs.key());
    long lost = 0;
    for (const auto& k : acked_) lost += stored.count(k) == 0;
    return lost;
  }

 private:
  etcdserverpb::KV::Stub& Stub(size_t i) const { return tls_ && tls_(i) ? *secure_[i] : *plain_[i]; }

  void Write(std::stop_token stop) {
    size_t next = 0;
    auto put = [&](const std::string& key) {
      for (size_t tries = 0; tries < plain_.size(); ++tries) {
        const size_t i = next++ % plain_.size();
        if (!ready_(i)) continue;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        etcdserverpb::PutRequest req;
        req.set_key(key);
        req.set_value("v-" + key);
        etcdserverpb::PutResponse resp;
        return Stub(i).Put(&ctx, req, &resp).ok();
      }
      return false;
    };
    for (int n = 0; !stop.stop_requested(); ++n) {
      char key[32];
      std::snprintf(key, sizeof key, "w-%06d", n);
      if (put(key)) {
        acked_.push_back(key);
        continue;
      }
      ++first_failures_;
      if (put(key)) {
        acked_.push_back(key);
      } else {
        ++failures_after_retry_;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  const std::function<bool(size_t)> ready_;
  const std::function<bool(size_t)> tls_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> plain_, secure_;  // per member
  std::vector<std::string> acked_;  // written by the writer thread only; read after Stop()
  std::atomic<int> first_failures_{0};
  std::atomic<int> failures_after_retry_{0};
  std::jthread writer_;  // last: joined before the members above are destroyed
};

}  // namespace cairn::op::testing
