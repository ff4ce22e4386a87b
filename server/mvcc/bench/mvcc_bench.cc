// mvcc_bench: puts per batch (1/64/512) and ranges of 1/100 keys at the current and a
// historical revision. Not a test; run by hand: build-*/server/mvcc/mvcc_bench.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::mvcc {
namespace {

std::unique_ptr<Store> FreshStore(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cairn_mvcc_bench_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto s = Store::Open({.path = (dir / "kv.db").string()});
  if (!s.ok()) std::abort();
  return std::move(*s);
}

std::string KeyOf(int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "/registry/pods/%010lld", static_cast<long long>(i));
  return buf;
}

void BM_Put(benchmark::State& state) {
  const int64_t per_batch = state.range(0);
  auto store = FreshStore("put" + std::to_string(per_batch));
  etcdserverpb::PutRequest p;
  p.set_value(std::string(256, 'v'));
  int64_t n = 0;
  uint64_t index = 0;
  for (auto _ : state) {
    ApplyBatch b(*store);
    for (int64_t i = 0; i < per_batch; ++i) {
      WriteTxn w(b);
      p.set_key(KeyOf(n++ % 100000));
      if (!w.Put(p, nullptr).ok()) std::abort();
      w.Commit();
    }
    b.Commit(++index);
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_Put)->Arg(1)->Arg(64)->Arg(512);

// 10k keys, each written 3 times; reads at the current revision or mid-history.
void BM_Range(benchmark::State& state) {
  const int64_t keys = state.range(0);
  const bool historical = state.range(1) != 0;
  static std::unique_ptr<Store> store;
  static int64_t mid_rev = 0;
  if (!store) {
    store = FreshStore("range");
    etcdserverpb::PutRequest p;
    p.set_value(std::string(256, 'v'));
    uint64_t index = 0;
    for (int round = 0; round < 3; ++round) {
      ApplyBatch b(*store);
      for (int64_t i = 0; i < 10000; ++i) {
        WriteTxn w(b);
        p.set_key(KeyOf(i));
        if (!w.Put(p, nullptr).ok()) std::abort();
        w.Commit();
      }
      b.Commit(++index);
      if (round == 1) mid_rev = store->CurrentRevision() - 5000;
    }
  }
  int64_t start = 0;
  for (auto _ : state) {
    etcdserverpb::RangeRequest req;
    req.set_key(KeyOf(start));
    if (keys > 1) req.set_range_end(KeyOf(start + keys));
    if (historical) req.set_revision(mid_rev);
    etcdserverpb::RangeResponse resp;
    if (!store->Range(req, &resp).ok() || resp.kvs_size() != keys) std::abort();
    start = (start + 37) % (10000 - keys);
  }
  state.SetItemsProcessed(state.iterations() * keys);
}
BENCHMARK(BM_Range)->Args({1, 0})->Args({1, 1})->Args({100, 0})->Args({100, 1});

}  // namespace
}  // namespace cairn::mvcc

BENCHMARK_MAIN();
