// Controller: drives Reconciler passes from watch events and timers.
//   * informers on EtcdClusters and on the children the operator creates (selected by
//     app.kubernetes.io/name=cairn, mapped back to their cluster by the
//     app.kubernetes.io/instance label) enqueue "namespace/name" on every change, so a
//     change is reconciled immediately;
//   * each pass asks for its own requeue (short while progressing or waiting, a long
//     resync when converged); failures back off per key;
//   * workers pull from one WorkQueue, which never hands the same cluster to two
//     workers at once.
// Keys enter the queue only through informer events (the initial list reports every
// existing object as ADDED), and every pass reads fresh, so an informer that has not
// synced yet can delay a pass but never feed it stale state.
// Run() returns when stop is requested. Thread-safety: Run once; Synced() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "operator/controller/reconciler.h"
#include "operator/controller/work_queue.h"
#include "operator/kube/informer.h"

namespace cairn::op {

struct ControllerOptions {
  std::string ns;  // empty: all namespaces
  int workers = 2;
  ReconcilerOptions reconciler;
  kube::InformerOptions informer;  // ns and selector are filled in per informer
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{60000};
};

class Controller {
 public:
  Controller(kube::Client& client, ControllerOptions options);
  ~Controller();

  void Run(std::stop_token stop);
  bool Synced() const;

 private:
  void Worker(std::stop_token stop);

  kube::Client& client_;
  ControllerOptions options_;
  Reconciler reconciler_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;
};

}  // namespace cairn::op
