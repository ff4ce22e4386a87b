// cairn-watch-fanout: watch fan-out latency and idle-watcher memory of any etcd v3
// endpoint (Cairn or etcd), so one binary measures both servers the same way.
//
// Opens `--streams` Watch streams over `--conns` channels and `--watchers` watchers
// (spread evenly over the streams) on one key prefix, waits until all are created, then
// puts `--puts` keys under the prefix one at a time. For each put it measures the time
// from the put's acknowledgement to the moment the last watcher received the event
// (negative if every watcher had it before the ack arrived) and reports p50/p99/max.
// Because a server may acknowledge before or after it has done most of the fan-out, it
// also reports the put's own latency and the time from sending the put to the last
// delivery: the latency a writer-to-watchers pipeline actually sees.
// It reports the CPU time (user + system) this client and, with `--server-pid`, the
// server spent per put: on a machine they share, their sum bounds how fast the fan-out
// can finish. With `--server-pid`, it also reports the server's RSS growth per idle
// watcher.
// The generator shares the machine with the server, so it is kept cheap: async streams
// served by `--client-threads` completion-queue threads.
//
//   cairn-watch-fanout --endpoint 127.0.0.1:2379 --streams 100 --watchers 10000 --puts 200
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

struct Options {
  std::string endpoint = "127.0.0.1:2379";
  int streams = 100;
  int conns = 10;
  int client_threads = 4;
  int watchers = 10000;
  int puts = 200;
  int value_size = 64;
  long server_pid = 0;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--endpoint") o.endpoint = next();
    else if (a == "--streams") o.streams = std::stoi(next());
    else if (a == "--conns") o.conns = std::stoi(next());
    else if (a == "--client-threads") o.client_threads = std::stoi(next());
    else if (a == "--watchers") o.watchers = std::stoi(next());
    else if (a == "--puts") o.puts = std::stoi(next());
    else if (a == "--value-size") o.value_size = std::stoi(next());
    else if (a == "--server-pid") o.server_pid = std::stol(next());
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

// User + system CPU time of a process so far, in milliseconds.
double CpuMs(long pid) {
  std::ifstream f("/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain spaces.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return 1000.0 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long RssKib(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Per-revision delivery bookkeeping shared by all reader threads.
class Tally {
 public:
  explicit Tally(int watchers) : watchers_(watchers) {}
  void Created() {
    std::lock_guard lock(mu_);
    ++created_;
    cv_.notify_all();
  }
  void WaitCreated() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return created_ == watchers_; });
  }
  void Delivered(int64_t rev, int n) {
    std::lock_guard lock(mu_);
    int& count = counts_[rev];
    count += n;
    if (count == watchers_) {
      done_[rev] = Clock::now();
      cv_.notify_all();
    }
  }
  // Waits until every watcher has revision `rev`; returns when the last one got it.
  Clock::time_point WaitAll(int64_t rev) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_.count(rev) != 0; });
    return done_[rev];
  }

 private:
  const int watchers_;
  std::mutex mu_;
  std::condition_variable cv_;
  int created_ = 0;
  std::map<int64_t, int> counts_;
  std::map<int64_t, Clock::time_point> done_;
};

// One watch stream driven by the async API. Streams are spread over a few completion
// queues, each served by one thread, so the load generator spends its CPU on messages
// rather than on waking a blocked reader thread per message (with a thread per stream
// it used more CPU than the servers it measures). Several queues rather than one
// because Debian's gRPC is built with its debug checks, which scan all of a queue's
// outstanding operations on every completion.
struct Stream {
  enum Op : uintptr_t { kStart = 0, kRead = 1, kWrite = 2 };
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<WatchRequest, WatchResponse>> rw;
  WatchResponse response;
  WatchRequest create;
  int creates_left = 0;
  void* Tag(Op op) { return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(this) | op); }
};

// The operations in flight on one queue; the queue is shut down once none are left
// after stopping, so no operation can start on a queue that is shutting down.
class Loop {
 public:
  explicit Loop(Tally* tally) : tally_(tally) {}
  grpc::CompletionQueue* cq() { return &cq_; }
  void Start(Stream* s, const std::shared_ptr<grpc::Channel>& channel) {
    ops_.fetch_add(1);
    // Prepared, then started: the start may complete on a loop thread at once.
    s->rw = etcdserverpb::Watch::NewStub(channel)->PrepareAsyncWatch(&s->context, &cq_);
    s->rw->StartCall(s->Tag(Stream::kStart));
  }
  void Run() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      auto* s = reinterpret_cast<Stream*>(reinterpret_cast<uintptr_t>(tag) & ~uintptr_t{3});
      const auto op = static_cast<Stream::Op>(reinterpret_cast<uintptr_t>(tag) & 3);
      if (ok && !stopping_.load()) Handle(s, op);
      if (ops_.fetch_sub(1) == 1 && stopping_.load()) cq_.Shutdown();
    }
  }
  // REQUIRES: every stream of this loop has been canceled.
  void Stop() {
    stopping_.store(true);
    ops_.fetch_add(1);
    if (ops_.fetch_sub(1) == 1) cq_.Shutdown();
  }

 private:
  void Handle(Stream* s, Stream::Op op) {
    switch (op) {
      case Stream::kStart:
        Read(s);
        WriteCreate(s);
        break;
      case Stream::kWrite:
        WriteCreate(s);
        break;
      case Stream::kRead:
        if (s->response.created()) tally_->Created();
        // One response may carry several revisions (puts applied together, e.g. from
        // other clients writing under the prefix); each counts.
        for (int i = 0; i < s->response.events_size(); ++i) {
          const int64_t rev = s->response.events(i).kv().mod_revision();
          if (i == 0 || rev != s->response.events(i - 1).kv().mod_revision()) tally_->Delivered(rev, 1);
        }
        Read(s);
        break;
    }
  }
  void Read(Stream* s) {
    ops_.fetch_add(1);
    s->rw->Read(&s->response, s->Tag(Stream::kRead));
  }
  void WriteCreate(Stream* s) {
    if (s->creates_left == 0) return;
    --s->creates_left;
    ops_.fetch_add(1);
    s->rw->Write(s->create, s->Tag(Stream::kWrite));
  }

  Tally* const tally_;
  grpc::CompletionQueue cq_;
  std::atomic<int64_t> ops_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace

int main(int argc, char** argv) {
  // As in the server (server/cmd/main.cc): no lock-order graph on every gRPC mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const Options o = Parse(argc, argv);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.conns; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct channels, not one shared subchannel
    channels.push_back(grpc::CreateCustomChannel(o.endpoint, grpc::InsecureChannelCredentials(), args));
  }
  const long rss_before = o.server_pid ? RssKib(o.server_pid) : -1;
  Tally tally(o.watchers);
  std::vector<std::unique_ptr<Stream>> streams;
  for (int s = 0; s < o.streams; ++s) {
    auto st = std::make_unique<Stream>();
    st->create.mutable_create_request()->set_key("/fanout/");
    st->create.mutable_create_request()->set_range_end("/fanout0");
    st->creates_left = o.watchers / o.streams + (s < o.watchers % o.streams ? 1 : 0);
    streams.push_back(std::move(st));
  }
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> threads;
  for (int t = 0; t < o.client_threads; ++t) loops.push_back(std::make_unique<Loop>(&tally));
  for (auto& loop : loops) threads.emplace_back([&loop] { loop->Run(); });
  const auto setup_start = Clock::now();
  for (size_t s = 0; s < streams.size(); ++s) {
    loops[s % loops.size()]->Start(streams[s].get(), channels[s % channels.size()]);
  }
  tally.WaitCreated();
  const double setup_ms = std::chrono::duration<double, std::milli>(Clock::now() - setup_start).count();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the server settle
  const long rss_after = o.server_pid ? RssKib(o.server_pid) : -1;

  auto kv = etcdserverpb::KV::NewStub(channels[0]);
  std::vector<double> lat_us;
  std::vector<double> put_us;
  std::vector<double> end_to_end_us;
  const std::string value(o.value_size, 'v');
  const double server_cpu_before = o.server_pid ? CpuMs(o.server_pid) : 0;
  const double client_cpu_before = CpuMs(0);
  for (int i = 0; i < o.puts; ++i) {
    etcdserverpb::PutRequest put;
    put.set_key("/fanout/" + std::to_string(i % 100));
    put.set_value(value);
    etcdserverpb::PutResponse resp;
    grpc::ClientContext ctx;
    const auto sent = Clock::now();
    const grpc::Status st = kv->Put(&ctx, put, &resp);
    const auto acked = Clock::now();
    if (!st.ok()) {
      std::fprintf(stderr, "put failed: %s\n", st.error_message().c_str());
      return 1;
    }
    const auto all = tally.WaitAll(resp.header().revision());
    lat_us.push_back(std::chrono::duration<double, std::micro>(all - acked).count());
    put_us.push_back(std::chrono::duration<double, std::micro>(acked - sent).count());
    end_to_end_us.push_back(std::chrono::duration<double, std::micro>(all - sent).count());
  }
  const double server_cpu_ms = o.server_pid ? CpuMs(o.server_pid) - server_cpu_before : 0;
  const double client_cpu_ms = CpuMs(0) - client_cpu_before;
  for (auto* v : {&lat_us, &put_us, &end_to_end_us}) std::sort(v->begin(), v->end());
  auto pct_of = [](const std::vector<double>& v, double p) {
    return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  auto pct = [&](double p) { return pct_of(lat_us, p); };
  std::printf("endpoint=%s streams=%d watchers=%d puts=%d\n", o.endpoint.c_str(), o.streams, o.watchers, o.puts);
  std::printf("create %d watchers: %.0f ms\n", o.watchers, setup_ms);
  std::printf("ack -> all watchers: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(0.50) / 1000, pct(0.99) / 1000,
              lat_us.back() / 1000);
  std::printf("put latency: p50 %.2f ms  p99 %.2f ms\n", pct_of(put_us, 0.5) / 1000, pct_of(put_us, 0.99) / 1000);
  std::printf("put sent -> all watchers: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct_of(end_to_end_us, 0.5) / 1000,
              pct_of(end_to_end_us, 0.99) / 1000, end_to_end_us.back() / 1000);
  std::printf("CPU per put: this client %.2f ms", client_cpu_ms / o.puts);
  if (o.server_pid) std::printf(", server %.2f ms", server_cpu_ms / o.puts);
  std::printf("\n");
  if (o.server_pid) {
    std::printf("server RSS: %ld KiB -> %ld KiB = %.0f bytes per idle watcher\n", rss_before, rss_after,
                1024.0 * static_cast<double>(rss_after - rss_before) / o.watchers);
  }
  for (auto& s : streams) s->context.TryCancel();
  for (auto& loop : loops) loop->Stop();
  for (auto& t : threads) t.join();
  return 0;
}
