// cairn-operator: reconciles EtcdCluster resources into Cairn clusters.
//
// Flags: --kubeconfig=PATH (default: $KUBECONFIG, else in-cluster), --namespace=NS (empty:
// all namespaces), --leader-election-namespace=NS and --leader-election-id=NAME (both set:
// only the Lease holder reconciles), --http-address=HOST:PORT (/healthz, /readyz,
// /metrics), --log-level=trace|debug|info|warn|error, --log-format=text|json,
// --default-cairn-image=REPOSITORY (clusters without spec.image run REPOSITORY:<version>), --help.
// Logs go to stderr, one record per line (operator/log/structured_log.h). SIGTERM/SIGINT stop reconciling,
// release the Lease and exit 0; losing the Lease exits 1 so the pod restarts as a
// follower (as client-go programs do).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "operator/cmd/backup_to_dir.h"
#include "operator/cmd/fetch_backup.h"
#include "operator/controller/backup_controller.h"
#include "operator/controller/controller.h"
#include "operator/controller/event_recorder.h"
#include "operator/controller/membership.h"
#include "operator/controller/metrics.h"
#include "operator/http/health_server.h"
#include "operator/kube/client.h"
#include "operator/kube/kube_config.h"
#include "operator/leader/leader_elector.h"
#include "operator/log/structured_log.h"

namespace {

using namespace cairn;
using namespace cairn::op;

constexpr const char* kUsage = R"(usage: cairn-operator [flags]
Reconciles EtcdCluster resources (etcd.cairn.dev/v1alpha1) into Cairn clusters.

  --kubeconfig=PATH                 kubeconfig file (default: $KUBECONFIG, else in-cluster)
  --namespace=NS                    watch only this namespace (default: all)
  --leader-election-namespace=NS    with --leader-election-id: only the holder of
  --leader-election-id=NAME         the coordination.k8s.io Lease NS/NAME reconciles
  --http-address=HOST:PORT          /healthz, /readyz, /metrics (default 0.0.0.0:8080)
  --log-level=LEVEL                 trace, debug, info, warn, error (default info)
  --log-format=FORMAT               text (logfmt) or json, one record per line (default text)
  --default-cairn-image=REPOSITORY  image of clusters without spec.image, tagged with
                                    their spec.version (default cairn)
  --operator-image=IMAGE            this operator's image, which restores run in the
                                    members' init containers (default: $OPERATOR_IMAGE)
  --help                            this text

       cairn-operator fetch-backup --help
Downloads and verifies one backup, for `cairn snapshot restore`.

       cairn-operator backup-to-dir --help
One full backup into a directory (the backup Pod of a pvc destination).
)";

struct Flags {
  std::string kubeconfig, ns, le_namespace, le_id, http_address = "0.0.0.0:8080", log_level = "info",
      log_format = "text", default_image = "cairn", operator_image = kube::ProcessEnv("OPERATOR_IMAGE");
  bool help = false;
};

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  std::map<std::string, std::string*> known = {{"--kubeconfig", &f.kubeconfig},
                                               {"--namespace", &f.ns},
                                               {"--leader-election-namespace", &f.le_namespace},
                                               {"--leader-election-id", &f.le_id},
                                               {"--http-address", &f.http_address},
                                               {"--log-level", &f.log_level},
                                               {"--log-format", &f.log_format},
                                               {"--default-cairn-image", &f.default_image},
                                               {"--operator-image", &f.operator_image}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      f.help = true;
      continue;
    }
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Status::InvalidArgument("flag " + arg + " needs a value");
    }
    auto it = known.find(arg);
    if (it == known.end()) return Status::InvalidArgument("unknown flag " + arg);
    *it->second = value;
  }
  if (f.le_namespace.empty() != f.le_id.empty()) {
    return Status::InvalidArgument("--leader-election-namespace and --leader-election-id go together");
  }
  return f;
}

Result<kube::KubeConfig> LoadConfig(const Flags& f) {
  std::string path = !f.kubeconfig.empty() ? f.kubeconfig : kube::ProcessEnv("KUBECONFIG");
  if (!path.empty()) return kube::LoadKubeconfig(path);
  return kube::InClusterConfig();
}

std::string Identity() {
  std::string pod = kube::ProcessEnv("POD_NAME");
  if (!pod.empty()) return pod;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  // Two processes on one host must not share an identity, or both would "hold" the Lease.
  return std::string(host) + "_" + std::to_string(std::random_device{}());
}

int Fail(const std::string& what, const Status& s) {
  log::Log(spdlog::level::err, what, {{"error", s.ToString()}});
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "fetch-backup") return FetchBackupMain(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "backup-to-dir") return BackupToDirMain(argc, argv);
  auto flags = ParseFlags(argc, argv);
  auto format = flags.ok() ? log::ParseFormat(flags->log_format) : Result<log::Format>(log::Format::kText);
  log::Init(format.ok() ? *format : log::Format::kText);
  if (!flags.ok()) return Fail("bad flags", flags.status());
  if (!format.ok()) return Fail("bad flags", format.status());
  if (flags->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto level = spdlog::level::from_str(flags->log_level);
  if (level == spdlog::level::off && flags->log_level != "off") {
    return Fail("bad flags", Status::InvalidArgument("unknown --log-level " + flags->log_level));
  }
  spdlog::set_level(level);

  // Signals go to a dedicated thread, never to a worker in the middle of an API call.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source shutdown;
  std::thread([&signals, &shutdown] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::Log(spdlog::level::info, "shutting down", {{"signal", sig}});
    shutdown.request_stop();
  }).detach();

  auto config = LoadConfig(*flags);
  if (!config.ok()) return Fail("no Kubernetes configuration", config.status());
  auto client = kube::Client::Create(*config);
  if (!client.ok()) return Fail("kubernetes client", client.status());

  Metrics metrics;
  const std::string identity = Identity();
  EventRecorderOptions event_options;
  event_options.instance = identity;
  EventRecorder events(**client, event_options);
  std::unique_ptr<LeaderElector> elector;
  if (!flags->le_id.empty()) {
    LeaderElectionConfig le;
    le.ns = flags->le_namespace;
    le.name = flags->le_id;
    le.identity = identity;
    elector = std::make_unique<LeaderElector>(**client, le, [] { return Clock::now(); });
  }

  ControllerOptions options;
  options.ns = flags->ns;
  // Bounds every membership RPC, and so how long a SIGTERM waits for an in-flight pass.
  options.reconciler.membership = EtcdMembershipFactory(std::chrono::seconds(2));
  options.reconciler.metrics = &metrics;
  options.reconciler.events = &events;
  options.reconciler.default_image_repository = flags->default_image;
  options.reconciler.operator_image = flags->operator_image;
  if (elector) options.reconciler.may_act = [e = elector.get()] { return e->IsLeader(); };

  BackupControllerOptions backup_options;
  backup_options.ns = flags->ns;
  backup_options.metrics = &metrics;
  backup_options.events = &events;
  backup_options.default_image_repository = flags->default_image;
  backup_options.may_act = options.reconciler.may_act;
  backup_options.operator_image = flags->operator_image;

  std::atomic<Controller*> active{nullptr};
  Probes probes;
  probes.ready = [&] {
    Controller* c = active.load();
    if (c) return c->Synced();
    return elector != nullptr && elector->Reachable();  // a follower standing by
  };
  probes.metrics = [&] { return metrics.Render(); };
  auto http = HealthServer::Start(flags->http_address, probes);
  if (!http.ok()) return Fail("http endpoints", http.status());
  log::Log(spdlog::level::info, "started",
           {{"namespace", flags->ns},
            {"http", flags->http_address},
            {"leader_election", elector ? elector->config().identity : "off"}});

  // Backups run beside the cluster controller, on their own workers and threads, so an
  // upload never delays a reconcile.
  auto run_controller = [&](std::stop_token stop) {
    Controller controller(**client, options);
    BackupController backups(**client, backup_options);
    std::jthread backup_thread([&](std::stop_token) { backups.Run(stop); });
    active = &controller;
    controller.Run(stop);
    active = nullptr;
  };

  if (!elector) {
    run_controller(shutdown.get_token());
    log::Log(spdlog::level::info, "stopped");
    return 0;
  }

  std::stop_source leading_stop;
  std::thread worker;
  elector->Run(
      shutdown.get_token(),
      [&] {
        log::Log(spdlog::level::info, "became leader", {{"lease", flags->le_namespace + "/" + flags->le_id}});
        metrics.SetLeader(true);
        worker = std::thread([&] { run_controller(leading_stop.get_token()); });
      },
      [&] {
        metrics.SetLeader(false);
        leading_stop.request_stop();
        if (worker.joinable()) worker.join();
      });
  if (shutdown.stop_requested()) {
    log::Log(spdlog::level::info, "stopped; lease released");
    return 0;
  }
  log::Log(spdlog::level::err, "lost leadership; exiting");
  return 1;
}
