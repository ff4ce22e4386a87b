// The cairn-operator binary against the fake API server through a kubeconfig file:
// serves /healthz, /readyz and /metrics, takes the Lease, reconciles a new EtcdCluster,
// and on SIGTERM releases the Lease and exits 0. Bad flags fail fast with exit code 2.
// --log-format=json makes every stderr line one JSON object (ts, level, msg, fields);
// --help prints the flags and exits 0.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fcntl.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <cpprest/http_client.h>
#include <nlohmann/json.hpp>

#include "operator/kube/resource.h"
#include "operator/tests/fake_apiserver.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;
using testing::FakeApiServer;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// stdout and stderr go to `output` when it is given.
pid_t Spawn(const std::vector<std::string>& args, const std::string& pod_name, const std::string& output = "") {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!output.empty()) {
      int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::setenv("POD_NAME", pod_name.c_str(), 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Exit status, or -1 if it did not exit in time (then it is killed).
int WaitExit(pid_t pid, std::chrono::milliseconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  web::http::client::http_client_config cfg;
  cfg.set_timeout(std::chrono::seconds(2));
  web::http::client::http_client c("http://127.0.0.1:" + std::to_string(port), cfg);
  try {
    auto r = c.request(web::http::methods::GET, path).get();
    return {r.status_code(), r.extract_utf8string(true).get()};
  } catch (const std::exception&) {
    return {0, ""};
  }
}

// DIR/kubeconfig for the fake API server, selecting `current_context` (YAML); the file
// defines only the context "t".
void WriteKubeconfig(const std::filesystem::path& dir, const FakeApiServer& fake, const std::string& current_context) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "kubeconfig") << "current-context: " << current_context << "\n"
                                    << "contexts: [{name: t, context: {cluster: c, user: u}}]\n"
                                    << "clusters: [{name: c, cluster: {server: \"" << fake.url() << "\"}}]\n"
                                    << "users: [{name: u, user: {token: " << fake.Config().token << "}}]\n";
}

template <typename F>
bool Eventually(F f, std::chrono::milliseconds limit = 15s) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

TEST(OperatorBinary, ServesEndpointsLeadsReconcilesAndReleasesOnSigterm) {
  FakeApiServer fake;
  auto dir = std::filesystem::temp_directory_path() / ("cairn-op-bin-" + std::to_string(::getpid()));
  WriteKubeconfig(dir, fake, "t");
  const int port = FreePort();
  pid_t pid = Spawn({CAIRN_OPERATOR_BIN, "--kubeconfig=" + (dir / "kubeconfig").string(),
                     "--leader-election-namespace=ops", "--leader-election-id=cairn-operator",
                     "--http-address=127.0.0.1:" + std::to_string(port), "--log-level=debug"},
                    "operator-a");
  ASSERT_GT(pid, 0);

  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/healthz").first == 200; }));
  EXPECT_TRUE(Eventually([&] {
    auto l = fake.Object(kube::types::Lease(), "ops", "cairn-operator");
    return l && (*l)["spec"]["holderIdentity"] == "operator-a";
  }));
  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/readyz").first == 200; }));
  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/metrics").second.find("cairn_operator_leader 1\n") != std::string::npos; }));
  EXPECT_EQ(HttpGet(port, "/nope").first, 404);

  fake.Upsert(kube::types::EtcdCluster(), "db", {{"metadata", {{"name", "etcd"}}}, {"spec", {{"replicas", 3}}}});
  EXPECT_TRUE(Eventually([&] { return fake.Object(kube::types::Service(), "db", "etcd-peer").has_value(); }));
  EXPECT_TRUE(Eventually([&] { return HttpGet(port, "/metrics").second.find("cairn_operator_actions_total{action=\"CreatePeerService\"} 1") != std::string::npos; }));

  // The in-flight pass finishes first (its membership calls to the unreachable members
  // are bounded by their deadlines), then the Lease is released.
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid, 30s), 0);
  auto lease = fake.Object(kube::types::Lease(), "ops", "cairn-operator");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");
  std::filesystem::remove_all(dir);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OperatorBinary, JsonLogFormatWritesOneObjectPerLine) {
  FakeApiServer fake;
  auto dir = std::filesystem::temp_directory_path() / ("cairn-op-json-" + std::to_string(::getpid()));
  // A missing context whose name has quotes: the start-up error carries characters JSON must escape.
  WriteKubeconfig(dir, fake, "'say \"hi\"'");
  const std::string out = (dir / "stderr").string();
  pid_t pid = Spawn({CAIRN_OPERATOR_BIN, "--kubeconfig=" + (dir / "kubeconfig").string(), "--log-format=json"}, "x", out);
  EXPECT_EQ(WaitExit(pid, 10s), 2);
  std::istringstream lines(ReadFile(out));
  int records = 0;
  for (std::string line; std::getline(lines, line); ++records) {
    auto rec = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(rec.is_object()) << line;
    EXPECT_TRUE(rec["ts"].is_string()) << line;
    EXPECT_EQ(rec["level"], "error") << line;
    EXPECT_EQ(rec["msg"], "no Kubernetes configuration") << line;
    EXPECT_NE(rec["error"].get<std::string>().find("say \"hi\""), std::string::npos) << line;
  }
  EXPECT_EQ(records, 1);

  // The default stays logfmt.
  pid = Spawn({CAIRN_OPERATOR_BIN, "--kubeconfig=" + (dir / "kubeconfig").string()}, "x", out);
  EXPECT_EQ(WaitExit(pid, 10s), 2);
  const std::string text = ReadFile(out);
  EXPECT_EQ(text.rfind("ts=", 0), 0u) << text;
  EXPECT_NE(text.find("Z level=error msg=\"no Kubernetes configuration\" error=\""), std::string::npos) << text;
  std::filesystem::remove_all(dir);
}

TEST(OperatorBinary, HelpListsTheFlags) {
  const std::string out = std::filesystem::temp_directory_path() / ("cairn-op-help-" + std::to_string(::getpid()));
  pid_t pid = Spawn({CAIRN_OPERATOR_BIN, "--help"}, "x", out);
  EXPECT_EQ(WaitExit(pid, 10s), 0);
  const std::string text = ReadFile(out);
  for (const char* flag : {"--kubeconfig", "--namespace", "--leader-election-id", "--http-address", "--log-level",
                           "--log-format"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
  std::filesystem::remove(out);
}

TEST(OperatorBinary, BadFlagsExitWithUsageError) {
  pid_t pid = Spawn({CAIRN_OPERATOR_BIN, "--no-such-flag=1"}, "x");
  EXPECT_EQ(WaitExit(pid, 10s), 2);
  pid = Spawn({CAIRN_OPERATOR_BIN, "--leader-election-id=only-id"}, "x");
  EXPECT_EQ(WaitExit(pid, 10s), 2);
  pid = Spawn({CAIRN_OPERATOR_BIN, "--log-format=yaml"}, "x");
  EXPECT_EQ(WaitExit(pid, 10s), 2);
  pid = Spawn({CAIRN_OPERATOR_BIN, "--log-level=loud"}, "x");
  EXPECT_EQ(WaitExit(pid, 10s), 2);
}

}  // namespace
}  // namespace cairn::op
