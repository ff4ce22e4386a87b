// EtcdProcess: a real `etcd` server on loopback for membership tests — or, with
// CAIRN_MEMBERSHIP_SERVER=<path to cairn>, a Cairn member started with the same etcd
// flags, so the same tests hold the operator to both. Each process gets a fresh temp
// data dir (unless reusing one) and two ports; destruction kills it.
// Test-only; not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace cairn::op::testing {

inline std::string ServerBinary() {
  const char* server = std::getenv("CAIRN_MEMBERSHIP_SERVER");
  return server != nullptr && *server != '\0' ? server : "/usr/bin/etcd";
}

inline bool EtcdInstalled() { return access(ServerBinary().c_str(), X_OK) == 0; }

inline bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A block of `count` free ports inside 23000-23949, starting the search at a
// per-process offset so parallel ctest processes (and other suites using the range)
// rarely meet.
inline int PortBase(int count = 10) {
  const int slots = 950 / count;
  const int start = static_cast<int>(getpid() % slots);
  for (int i = 0; i < slots; ++i) {
    int base = 23000 + ((start + i) % slots) * count;
    bool free = true;
    for (int p = base; p < base + count && free; ++p) free = PortFree(p);
    if (free) return base;
  }
  return 23000 + start * count;
}

struct EtcdMember {
  std::string name;
  int client_port;
  int peer_port;
  // "https" serves clients with TLS: give the member --cert-file/--key-file (extra args).
  std::string client_scheme = "http";
  std::string peer_scheme = "http";  // "https": give --peer-cert-file/--peer-key-file
  std::string listen_peer_urls{};    // empty: PeerUrl() only
  std::string ClientUrl() const { return client_scheme + "://127.0.0.1:" + std::to_string(client_port); }
  std::string PeerUrl() const { return peer_scheme + "://127.0.0.1:" + std::to_string(peer_port); }
};

class EtcdProcess {
 public:
  // extra_args follow the standard flags (e.g. the TLS ones: --cert-file=...).
  EtcdProcess(EtcdMember m, std::string initial_cluster, std::string state, std::string dir,
              const std::vector<std::string>& extra_args = {})
      : m_(std::move(m)), dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::vector<std::string> args = {
        ServerBinary(), "--name=" + m_.name, "--data-dir=" + dir_ + "/data",
        "--listen-client-urls=" + m_.ClientUrl(), "--advertise-client-urls=" + m_.ClientUrl(),
        "--listen-peer-urls=" + (m_.listen_peer_urls.empty() ? m_.PeerUrl() : m_.listen_peer_urls),
        "--initial-advertise-peer-urls=" + m_.PeerUrl(),
        "--initial-cluster=" + initial_cluster, "--initial-cluster-state=" + state,
        "--initial-cluster-token=cairn-op-test", "--heartbeat-interval=50", "--election-timeout=500",
        "--snapshot-count=1000", "--logger=zap", "--log-outputs=" + dir_ + "/log"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~EtcdProcess() { Kill(); }
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM, as the kubelet stops a deleted pod's container, then SIGKILL after `grace`.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (auto end = std::chrono::steady_clock::now() + grace; std::chrono::steady_clock::now() < end;) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
  }
  // SIGSTOP / SIGCONT: a member that hangs without closing its connections.
  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // True if the process has exited on its own (e.g. after being removed).
  bool Exited() {
    if (pid_ <= 0) return true;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  const EtcdMember& member() const { return m_; }
  const std::string& dir() const { return dir_; }

 private:
  EtcdMember m_;
  std::string dir_;
  pid_t pid_ = -1;
};

// Polls `pred` every 100ms until true or `limit` passes.
template <typename P>
bool Eventually(P pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

}  // namespace cairn::op::testing
