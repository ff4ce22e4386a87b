// Deterministic simulation over many seeds. CAIRN_SIM_SEEDS=<n> runs seeds 1..n (default
// 10000, about 25 s in RelWithDebInfo); CAIRN_SIM_SEED=<s> replays one seed with an event trace.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "server/raft/sim/simulation.h"

namespace cairn::raft::sim {
namespace {

uint64_t EnvOr(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v == nullptr ? def : std::strtoull(v, nullptr, 10);
}

void Report(uint64_t seed, const Status& st) {
  // Replay deterministically with tracing to show what led to the failure.
  SimOptions traced;
  traced.trace = true;
  Simulation replay(seed, traced);
  (void)replay.Run();
  std::cerr << replay.TraceTail() << "\nseed " << seed << " failed: " << st.ToString()
            << "\nreplay with: CAIRN_SIM_SEED=" << seed << " ./raft_sim_test\n";
}

TEST(RaftSimulation, Seeds) {
  const uint64_t only = EnvOr("CAIRN_SIM_SEED", 0);
  const uint64_t first = only != 0 ? only : 1;
  const uint64_t last = only != 0 ? only : EnvOr("CAIRN_SIM_SEEDS", 10000);
  const auto start = std::chrono::steady_clock::now();
  SimStats total;
  for (uint64_t seed = first; seed <= last; ++seed) {
    Simulation s(seed, SimOptions{});
    const Status st = s.Run();
    total.Add(s.stats());
    if (!st.ok()) {
      Report(seed, st);
      FAIL() << "seed " << seed << ": " << st.ToString() << " (replay: CAIRN_SIM_SEED=" << seed << ")";
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "simulated seeds " << first << ".." << last << " in " << secs << "s: " << total.proposals
            << " proposals, " << total.committed << " applied entries, " << total.conf_changes
            << " membership changes, " << total.snapshots << " snapshots, " << total.reads
            << " reads, " << total.crashes << " crashes, max term " << total.max_term << "\n";
}

}  // namespace
}  // namespace cairn::raft::sim
