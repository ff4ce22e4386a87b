#include "operator/controller/controller.h"

#include <thread>

#include "operator/api/naming.h"
#include "operator/log/structured_log.h"

namespace cairn::op {

Controller::Controller(kube::Client& client, ControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      reconciler_(client, options_.reconciler),
      queue_(options_.backoff_initial, options_.backoff_max) {
  kube::InformerOptions clusters = options_.informer;
  clusters.ns = options_.ns;
  informers_.push_back(std::make_unique<kube::Informer>(
      client_, kube::types::EtcdCluster(), clusters, [this](const std::string&, const nlohmann::json& obj) {
        queue_.Add(obj["metadata"].value("namespace", "") + "/" + obj["metadata"].value("name", ""));
      }));
  kube::InformerOptions children = options_.informer;
  children.ns = options_.ns;
  children.label_selector = std::string(naming::kLabelName) + "=cairn";
  for (const kube::ResourceType* t :
       {&kube::types::StatefulSet(), &kube::types::Pod(), &kube::types::PersistentVolumeClaim(),
        &kube::types::Service(), &kube::types::ConfigMap(), &kube::types::PodDisruptionBudget()}) {
    informers_.push_back(std::make_unique<kube::Informer>(
        client_, *t, children, [this](const std::string&, const nlohmann::json& obj) {
          const auto labels = obj["metadata"].value("labels", nlohmann::json::object());
          auto it = labels.find(naming::kLabelInstance);
          if (it != labels.end() && it->is_string()) {
            queue_.Add(obj["metadata"].value("namespace", "") + "/" + it->get<std::string>());
          }
        }));
  }
}

Controller::~Controller() = default;

bool Controller::Synced() const {
  for (const auto& i : informers_) {
    if (!i->HasSynced()) return false;
  }
  return true;
}

void Controller::Worker(std::stop_token stop) {
  while (auto key = queue_.Get(stop)) {
    auto slash = key->find('/');
    auto started = std::chrono::steady_clock::now();
    ReconcileOutcome out = reconciler_.Reconcile(key->substr(0, slash), key->substr(slash + 1));
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    std::string result;
    if (!out.status.ok()) {
      result = "error";
      auto delay = queue_.Failure(*key);
      log::Log(spdlog::level::warn, "reconcile failed",
               {{"cluster", *key}, {"action", ActionKindName(out.action)}, {"retry_in_ms", delay.count()},
                {"error", out.status.ToString()}});
    } else {
      if (out.action != ActionKind::kNone && out.action != ActionKind::kWait) {
        log::Log(spdlog::level::info, "reconciled",
                 {{"cluster", *key}, {"action", ActionKindName(out.action)},
                  {"took_ms", static_cast<int64_t>(took.count() * 1000)}});
      }
      result = out.action == ActionKind::kNone ? "success" : "requeue";
      queue_.Forget(*key);
      if (out.requeue_after) queue_.AddAfter(*key, *out.requeue_after);
    }
    if (options_.reconciler.metrics) options_.reconciler.metrics->RecordReconcile(result, took);
    queue_.Done(*key);
  }
}

void Controller::Run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  for (auto& i : informers_) {
    threads.emplace_back([&i, stop] { i->Run(stop); });
  }
  for (int w = 0; w < options_.workers; ++w) {
    threads.emplace_back([this, stop] { Worker(stop); });
  }
  for (auto& t : threads) t.join();
}

}  // namespace cairn::op
