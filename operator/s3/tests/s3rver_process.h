// S3rverProcess: a real s3rver (npm, installed by tools/install-s3rver.sh into the tools
// cache) on a free loopback port, with a fresh data directory and one bucket, for the
// S3 client tests; its output goes to a log file in that directory. Destruction kills it.
// Also FreeLoopbackPort(), for servers that must not answer.
// Test-only; not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cairn::op::s3::testing {

// As charts/tests/tools-dir.sh: $CAIRN_TOOLS_DIR, else ${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/cairn-tools.
inline std::string ToolsDir() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v != nullptr ? v : "");
  };
  if (!env("CAIRN_TOOLS_DIR").empty()) return env("CAIRN_TOOLS_DIR");
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/cairn-tools";
  return (env("HOME").empty() ? std::string("/tmp") : env("HOME")) + "/.cache/cairn-tools";
}

inline std::string S3rverBinary() { return ToolsDir() + "/s3rver/node_modules/.bin/s3rver"; }

inline bool S3rverInstalled() { return access(S3rverBinary().c_str(), X_OK) == 0; }

// A port the kernel just handed out and nobody listens on (a tiny race with other
// processes taking it is accepted).
inline int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool Answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class S3rverProcess {
 public:
  // extra_args: e.g. {"--cert", path, "--key", path} to serve HTTPS.
  S3rverProcess(std::string dir, std::string bucket, const std::vector<std::string>& extra_args = {})
      : dir_(std::move(dir)), port_(FreeLoopbackPort()) {
    std::vector<std::string> args = {S3rverBinary(), "-d", dir_ + "/data", "-a", "127.0.0.1",
                                     "-p", std::to_string(port_), "--configure-bucket", std::move(bucket)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((dir_ + "/s3rver.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, 1);
      dup2(log, 2);
      // s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which Node's
      // OpenSSL 3 offers only through its legacy provider (else every second page is a 500).
      setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~S3rverProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  // True once this s3rver says it listens (so a port taken by someone else meanwhile is
  // not mistaken for it) and the port answers; false if it died or 30 s passed.
  bool WaitReady() {
    const std::string listening = "listening on 127.0.0.1:" + std::to_string(port_);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (Log().find(listening) != std::string::npos && Answers(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int port() const { return port_; }
  std::string Log() const {
    std::ifstream in(dir_ + "/s3rver.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace cairn::op::s3::testing
