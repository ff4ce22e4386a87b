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
// With `--server-pid`, it also reports the server's RSS growth per idle watcher.
//
//   cairn-watch-fanout --endpoint 127.0.0.1:2379 --streams 100 --watchers 10000 --puts 200
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

struct Options {
  std::string endpoint = "127.0.0.1:2379";
  int streams = 100;
  int conns = 10;
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

struct Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>> rw;
  std::thread reader;
};

}  // namespace

int main(int argc, char** argv) {
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
    auto stub = etcdserverpb::Watch::NewStub(channels[s % channels.size()]);
    st->rw = stub->Watch(&st->context);
    Stream* raw = st.get();
    st->reader = std::thread([raw, &tally] {
      WatchResponse r;
      while (raw->rw->Read(&r)) {
        if (r.created()) tally.Created();
        if (r.events_size() > 0) tally.Delivered(r.events(0).kv().mod_revision(), 1);
      }
    });
    streams.push_back(std::move(st));
  }
  const auto setup_start = Clock::now();
  for (int w = 0; w < o.watchers; ++w) {
    WatchRequest req;
    req.mutable_create_request()->set_key("/fanout/");
    req.mutable_create_request()->set_range_end("/fanout0");
    if (!streams[w % streams.size()]->rw->Write(req)) {
      std::fprintf(stderr, "watch stream closed while creating watchers\n");
      return 1;
    }
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
  if (o.server_pid) {
    std::printf("server RSS: %ld KiB -> %ld KiB = %.0f bytes per idle watcher\n", rss_before, rss_after,
                1024.0 * static_cast<double>(rss_after - rss_before) / o.watchers);
  }
  for (auto& s : streams) s->rw->WritesDone();
  for (auto& s : streams) s->context.TryCancel();
  for (auto& s : streams) s->reader.join();
  return 0;
}
