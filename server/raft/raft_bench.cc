// Throughput of the Raft core alone: entries committed per second by a 3-member cluster
// whose "network" and "disk" are in memory, for several proposal batch sizes.
#include <benchmark/benchmark.h>

#include "server/raft/test_cluster.h"

namespace cairn::raft {
namespace {

void BM_CommitThroughput(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  TestCluster c(3);
  c.set_record_applied(false);
  c.set_record_trace(false);
  if (!c.Elect(1)) {
    state.SkipWithError("no leader");
    return;
  }
  const std::string payload(256, 'x');
  int64_t rounds = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      if (!c.node(1).Propose(payload).ok()) state.SkipWithError("proposal dropped");
    }
    c.Stabilize();
    // Keep memory flat: compact everything applied.
    if (++rounds % 64 == 0) {
      state.PauseTiming();
      for (NodeId id : c.ids()) {
        TestCluster::Member& m = c.member(id);
        if (m.applied_index > c.storage(id).FirstIndex()) {
          (void)c.storage(id).CreateSnapshot(m.applied_index, &m.conf_state, "");
          (void)c.storage(id).Compact(m.applied_index);
        }
      }
      state.ResumeTiming();
    }
  }
  if (c.member(2).applied_index < static_cast<Index>(rounds * batch)) state.SkipWithError("not all committed");
  state.SetItemsProcessed(rounds * batch);
  state.SetBytesProcessed(rounds * batch * static_cast<int64_t>(payload.size()));
}
BENCHMARK(BM_CommitThroughput)->Arg(1)->Arg(16)->Arg(256);

}  // namespace
}  // namespace cairn::raft

BENCHMARK_MAIN();
