// cairn: one Cairn member. Accepts etcd's flags, ETCD_* environment variables and
// --config-file, serves the etcd v3 gRPC API on --listen-client-urls, and shuts down
// cleanly on SIGINT/SIGTERM (in-flight requests finish, files are closed).
// `cairn snapshot restore FILE [--skip-hash-check] [--replay=DELTAS] <flags>` instead
// builds the data dir those flags describe from a snapshot file (and, for a point-in-time
// restore, the delta file replayed on top) and exits (etcdserver/restore.h).
#include <absl/synchronization/mutex.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "server/api/client_server.h"
#include "server/api/maintenance_service.h"
#include "server/cmd/member_options.h"
#include "server/config/cipher_suites.h"
#include "server/config/load_config.h"
#include "server/wal/wal.h"
#include "server/etcdserver/restore.h"
#include "server/etcdserver/server.h"
#include "server/transport/peer_server.h"
#include "server/transport/self_signed_cert.h"

extern char** environ;

namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (auto eq = kv.find('='); eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

bool SetLogLevel(const std::string& level) {
  static const std::map<std::string, spdlog::level::level_enum> kLevels = {
      {"debug", spdlog::level::debug}, {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"panic", spdlog::level::critical}, {"fatal", spdlog::level::critical}};
  auto it = kLevels.find(level);
  if (it == kLevels.end()) return false;
  spdlog::set_level(it->second);
  return true;
}

// The certificate files of every TLS side in use must be readable PEM. (The TLS flags
// Cairn does not implement yet are refused by the flag registry.)
cairn::Status CheckTls(const cairn::config::ServerConfig& c) {
  const std::pair<const cairn::config::TlsConfig*, std::string> sides[] = {{&c.client_tls, ""},
                                                                            {&c.peer_tls, "peer-"}};
  for (const auto& [t, p] : sides) {
    if (t->Enabled() && !t->auto_tls) CAIRN_RETURN_IF_ERROR(cairn::cmd::ToTlsFiles(*t, p.empty() ? "client" : "peer").Check(p));
  }
  return cairn::Status::Ok();
}

// --auto-tls / --peer-auto-tls as etcd does them: certificate files given on the same
// side win (with a warning); otherwise a self-signed certificate for the hosts of the
// listen URLs, kept in <data-dir>/fixtures/{client,peer} and reused on restart.
cairn::Result<cairn::transport::TlsFiles> EffectiveTls(const cairn::config::TlsConfig& t, const std::string& side,
                                                       const std::vector<cairn::config::Url>& listen_urls,
                                                       const cairn::config::ServerConfig& c) {
  cairn::transport::TlsFiles files = cairn::cmd::ToTlsFiles(t, side);
  if (!t.auto_tls) return files;
  if (files.Enabled()) {
    spdlog::warn("ignoring {} auto TLS since certs given", side);
    return files;
  }
  std::vector<std::string> hosts;
  for (const auto& u : listen_urls) hosts.push_back(u.host);
  auto generated = cairn::transport::SelfSignedCert(*cairn::PosixFileSystem(), c.data_dir + "/fixtures/" + side, hosts,
                                                    static_cast<unsigned>(std::max<uint64_t>(c.self_signed_cert_validity_years, 1)));
  if (!generated.ok()) return generated.status();
  generated->trusted_ca_file = files.trusted_ca_file;
  generated->client_cert_auth = files.client_cert_auth;
  generated->policy = files.policy;
  CAIRN_RETURN_IF_ERROR(generated->Check(side == "peer" ? "peer-" : ""));
  return generated;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil without NDEBUG, so every absl::Mutex lock (gRPC takes them on
  // each message) would also update abseil's global lock-order graph: 9% of the
  // server's instructions in a watch fan-out. Cairn does not rely on that detector.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Block the shutdown signals in every thread; main() collects them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z\t%^%l%$\t%v");
  std::vector<std::string> args(argv + 1, argv + argc);
  // `cairn snapshot restore FILE [--skip-hash-check] [--replay=DELTAS] <the member's flags>`.
  std::string restore_from;
  std::string replay_from;  // --replay=DELTAS: a point-in-time restore (etcdserver/replay.h)
  bool skip_hash_check = false;
  if (args.size() >= 2 && args[0] == "snapshot" && args[1] == "restore") {
    if (args.size() < 3 || args[2].starts_with("-")) {
      std::fprintf(stderr, "usage: cairn snapshot restore FILE [--skip-hash-check] [--replay=DELTAS] [member flags]\n");
      return 2;
    }
    restore_from = args[2];
    args.erase(args.begin(), args.begin() + 3);
    const auto skip = std::find(args.begin(), args.end(), "--skip-hash-check");
    skip_hash_check = skip != args.end();
    if (skip_hash_check) args.erase(skip);
    const auto replay =
        std::find_if(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--replay="); });
    if (replay != args.end()) {
      replay_from = replay->substr(std::string("--replay=").size());
      args.erase(replay);
      if (replay_from.empty()) {
        std::fprintf(stderr, "cairn snapshot restore: --replay needs a file\n");
        return 2;
      }
    }
  }
  auto loaded = cairn::config::LoadConfig(args, Environment());
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
    return 2;
  }
  if (loaded->show_help) {
    std::fputs(cairn::config::HelpText().c_str(), stdout);
    return 0;
  }
  if (loaded->show_version) {
    std::printf("cairn Version: 0.1.0\netcd API Version: %s\n", cairn::api::kEtcdApiVersion);
    return 0;
  }
  const cairn::config::ServerConfig& cfg = loaded->config;
  if (!SetLogLevel(cfg.log_level)) {
    std::fprintf(stderr, "cairn: unknown --log-level %s (debug, info, warn, error, panic, fatal)\n",
                 cfg.log_level.c_str());
    return 2;
  }
  for (const auto& w : loaded->warnings) spdlog::warn("{}", w);
  if (cairn::Status st = CheckTls(cfg); !st.ok()) {
    std::fprintf(stderr, "cairn: %s\n", st.message().c_str());
    return 2;
  }
  // Like etcd, --initial-* only matter for a new member; a restart takes its identity from the WAL.
  if (!restore_from.empty() || !cairn::wal::Wal::Exists(cairn::PosixFileSystem(), cfg.EffectiveWalDir())) {
    if (cairn::Status st = cfg.VerifyBootstrap(); !st.ok()) {
      std::fprintf(stderr, "cairn: %s\n", st.message().c_str());
      return 2;
    }
  }

  auto options = cairn::cmd::ToServerOptions(cfg);
  if (!restore_from.empty()) {
    if (cairn::Status st = cairn::etcdserver::RestoreSnapshot(options, restore_from, skip_hash_check, replay_from);
        !st.ok()) {
      std::fprintf(stderr, "cairn: %s\n", st.message().c_str());
      return 1;
    }
    return 0;
  }
  if (!cfg.cipher_suites.empty()) {
    // gRPC reads it when it creates its first TLS context, which has not happened yet.
    setenv(cairn::config::kGrpcCipherSuitesEnv, cairn::config::OpenSslCipherList(cfg.cipher_suites).value().c_str(), 1);
  }
  auto client_tls = EffectiveTls(cfg.client_tls, "client", cfg.listen_client_urls, cfg);
  auto peer_tls = EffectiveTls(cfg.peer_tls, "peer", cfg.listen_peer_urls, cfg);
  for (const auto* tls : {&client_tls, &peer_tls}) {
    if (!tls->ok()) {
      std::fprintf(stderr, "cairn: %s\n", tls->status().message().c_str());
      return 1;
    }
  }
  options.client_tls = *client_tls;
  options.peer_tls = *peer_tls;
  // A removed member shuts down like one asked to stop (etcd exits too).
  options.on_removed = [] { kill(getpid(), SIGTERM); };
  auto server = cairn::etcdserver::EtcdServer::Start(std::move(options));
  if (!server.ok()) {
    spdlog::critical("cannot start member {}: {}", cfg.name, server.status().message());
    return 1;
  }
  std::vector<std::string> peer_listen_urls;
  for (const auto& url : cfg.listen_peer_urls) peer_listen_urls.push_back(url.String());
  auto peers = cairn::transport::PeerServer::Start(server->get(), peer_listen_urls, (*server)->options().peer_tls);
  if (!peers.ok()) {
    spdlog::critical("cannot serve peers: {}", peers.status().message());
    server.value()->Stop();
    return 1;
  }
  std::vector<std::string> listen_urls;
  for (const auto& url : cfg.listen_client_urls) listen_urls.push_back(url.String());
  std::vector<std::string> metrics_urls;
  for (const auto& url : cfg.listen_metrics_urls) metrics_urls.push_back(url.String());
  auto clients = cairn::api::ClientServer::Start(server->get(), listen_urls, metrics_urls);
  if (!clients.ok()) {
    spdlog::critical("cannot serve clients: {}", clients.status().message());
    peers.value()->Shutdown();
    server.value()->Stop();
    return 1;
  }
  // As etcd, once this member's name and client URLs are in the log: until then a
  // client that takes member list's URLs for this member finds none.
  server.value()->OnPublished([] { spdlog::info("ready to serve client requests"); });

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // The member stops first: requests still in flight complete (applied ones with their
  // result, the rest with "server stopped") while gRPC can still deliver the answers.
  server.value()->Stop();
  peers.value()->Shutdown();
  clients.value()->Shutdown();
  return 0;
}
