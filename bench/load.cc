// cairn-load: a closed-loop load generator for any etcd v3 endpoint (Cairn or etcd).
//
// `--clients` logical clients each keep exactly one request in flight over a pool of
// `--conns` gRPC channels, like etcd's own benchmark tool, and the tool reports
// throughput and latency percentiles. The same binary drives both servers so a
// comparison measures the servers, not the clients.
//
//   cairn-load --endpoint 127.0.0.1:2379 --op put   --clients 100 --total 20000
//   cairn-load --endpoint 127.0.0.1:2379 --op range --clients 100 --total 20000 [--serializable]
//   ... --user name:password   (authenticates once; every request carries the token)
//   ... --cacert ca.pem [--cert client.pem --key client-key.pem]   (TLS, mutual with a certificate)
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint = "127.0.0.1:2379";
  std::string op = "put";
  int clients = 1;
  int conns = 10;
  long total = 10000;
  int key_size = 8;
  int value_size = 256;
  long key_space = 100000;
  bool serializable = false;
  std::string user;  // "name:password"; empty = no auth
  std::string cacert, cert, key;  // PEM files; cacert set = TLS
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "cairn-load: %s\nusage: cairn-load [--endpoint host:port] [--op put|range] [--clients N] "
               "[--conns N] [--total N] [--key-size N] [--value-size N] [--key-space N] [--serializable] "
               "[--user name:password] [--cacert FILE [--cert FILE --key FILE]]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--endpoint") o.endpoint = next();
    else if (a == "--op") o.op = next();
    else if (a == "--clients") o.clients = std::stoi(next());
    else if (a == "--conns") o.conns = std::stoi(next());
    else if (a == "--total") o.total = std::stol(next());
    else if (a == "--key-size") o.key_size = std::stoi(next());
    else if (a == "--value-size") o.value_size = std::stoi(next());
    else if (a == "--key-space") o.key_space = std::stol(next());
    else if (a == "--serializable") o.serializable = true;
    else if (a == "--user") o.user = next();
    else if (a == "--cacert") o.cacert = next();
    else if (a == "--cert") o.cert = next();
    else if (a == "--key") o.key = next();
    else Usage(("unknown argument " + a).c_str());
  }
  if (o.op != "put" && o.op != "range") Usage("--op must be put or range");
  if (o.clients < 1 || o.conns < 1 || o.total < 1) Usage("--clients, --conns and --total must be positive");
  if (o.cert.empty() != o.key.empty() || (!o.cert.empty() && o.cacert.empty())) {
    Usage("--cert and --key go together, and with --cacert");
  }
  o.conns = std::min(o.conns, o.clients);
  return o;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Usage(("cannot read " + path).c_str());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const Options& o) {
  if (o.cacert.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(o.cacert);
  if (!o.cert.empty()) {
    ssl.pem_cert_chain = ReadFile(o.cert);
    ssl.pem_private_key = ReadFile(o.key);
  }
  return grpc::SslCredentials(ssl);
}

std::string MakeKey(long n, int size) {
  std::string k(static_cast<size_t>(size), '0');
  for (int i = size - 1; i >= 0 && n > 0; --i, n /= 10) k[static_cast<size_t>(i)] = static_cast<char>('0' + n % 10);
  return k;
}

class Load {
 public:
  explicit Load(const Options& o) : o_(o), value_(static_cast<size_t>(o.value_size), 'v') {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    for (int i = 0; i < o.conns; ++i) {
      args.SetInt("cairn.load.channel", i);  // distinct args => distinct TCP connections
      stubs_.push_back(etcdserverpb::KV::NewStub(
          grpc::CreateCustomChannel(o.endpoint, Credentials(o), args)));
    }
    latencies_.resize(static_cast<size_t>(o.total));
  }

  // Gets the token every request will carry, if --user was given. False on failure.
  bool Authenticate(std::shared_ptr<grpc::Channel> channel) {
    if (o_.user.empty()) return true;
    const size_t colon = o_.user.find(':');
    etcdserverpb::AuthenticateRequest request;
    request.set_name(o_.user.substr(0, colon));
    request.set_password(colon == std::string::npos ? "" : o_.user.substr(colon + 1));
    etcdserverpb::AuthenticateResponse response;
    grpc::ClientContext ctx;
    grpc::Status st = etcdserverpb::Auth::NewStub(channel)->Authenticate(&ctx, request, &response);
    if (!st.ok()) {
      std::fprintf(stderr, "cairn-load: authenticate: %s\n", st.error_message().c_str());
      return false;
    }
    token_ = response.token();
    return true;
  }

  int Run() {
    start_ = Clock::now();
    for (int c = 0; c < o_.clients; ++c) Issue(c, std::make_shared<std::mt19937_64>(c + 1));
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return finished_clients_ == o_.clients; });
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const long n = completed_.load();
    std::vector<double> lat(latencies_.begin(), latencies_.begin() + n);
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(p * lat.size()))]; };
    std::printf("{\"op\":\"%s\",\"clients\":%d,\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
                "\"throughput\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f}\n",
                o_.op.c_str(), o_.clients, n, errors_.load(), secs, n / secs, pct(0.5), pct(0.9), pct(0.99));
    if (errors_.load() > 0) std::fprintf(stderr, "first error: %s\n", first_error_.c_str());
    return errors_.load() == 0 ? 0 : 1;
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest put;
    etcdserverpb::PutResponse put_resp;
    etcdserverpb::RangeRequest range;
    etcdserverpb::RangeResponse range_resp;
    Clock::time_point started;
  };

  void Issue(int client, std::shared_ptr<std::mt19937_64> rng) {
    const long slot = issued_.fetch_add(1);
    if (slot >= o_.total) {
      std::lock_guard lock(mu_);
      if (++finished_clients_ == o_.clients) done_cv_.notify_one();
      return;
    }
    auto call = std::make_shared<Call>();
    if (!token_.empty()) call->ctx.AddMetadata("token", token_);
    const std::string key = MakeKey(static_cast<long>((*rng)() % static_cast<uint64_t>(o_.key_space)), o_.key_size);
    auto* stub = stubs_[static_cast<size_t>(client % o_.conns)].get();
    call->started = Clock::now();
    auto done = [this, client, rng, call, slot](grpc::Status status) {
      latencies_[static_cast<size_t>(slot)] =
          std::chrono::duration<double, std::milli>(Clock::now() - call->started).count();
      completed_.fetch_add(1);
      if (!status.ok() && errors_.fetch_add(1) == 0) {
        std::lock_guard lock(mu_);
        first_error_ = std::to_string(status.error_code()) + " " + status.error_message();
      }
      Issue(client, rng);
    };
    if (o_.op == "put") {
      call->put.set_key(key);
      call->put.set_value(value_);
      stub->async()->Put(&call->ctx, &call->put, &call->put_resp, done);
    } else {
      call->range.set_key(key);
      call->range.set_serializable(o_.serializable);
      stub->async()->Range(&call->ctx, &call->range, &call->range_resp, done);
    }
  }

  const Options o_;
  const std::string value_;
  std::string token_;  // set before the load starts
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
  std::vector<double> latencies_;  // slot i written once by the completion of request i
  std::atomic<long> issued_{0};
  std::atomic<long> completed_{0};
  std::atomic<long> errors_{0};
  Clock::time_point start_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int finished_clients_ = 0;  // guarded by mu_
  std::string first_error_;   // guarded by mu_
};

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  Load load(o);
  if (!load.Authenticate(grpc::CreateChannel(o.endpoint, Credentials(o)))) return 1;
  return load.Run();
}
