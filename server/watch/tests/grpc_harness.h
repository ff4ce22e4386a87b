// Test harness for the Watch gRPC service: a real MVCC store, a hub fed by an apply
// function that works like the member's apply loop, the WatchService on a loopback
// grpc::Server, and a watch client stream that records every response.
// Thread-safety: Apply/Compact serialise on apply_mu_ (the "apply loop"); WatchClient
// records on a reader thread under mu_ and may be sent to from one thread.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/watch_service.h"
#include "server/mvcc/apply_batch.h"
#include "server/watch/tests/hub_harness.h"
#include "server/watch/watch_hub.h"

namespace cairn::watch::testing {

class FakeMember final : public api::WatchContext {
 public:
  uint64_t ClusterId() const override { return 0x1234; }
  uint64_t MemberId() const override { return 0x5678; }
  uint64_t RaftTerm() const override { return 3; }
  bool HasLeader() const override { return has_leader.load(); }
  Status CheckWatch(const grpc::ServerContext&, const std::string& key, const std::string&) const override {
    return key.starts_with("secret") ? Status::PermissionDenied("etcdserver: permission denied") : Status::Ok();
  }
  // Runs what answered_not_visible holds (a write already answered, whose batch is not
  // yet visible), as the member's barrier waits for that batch.
  Status LocalReadBarrier() const override {
    std::function<void()> commit;
    {
      std::lock_guard lock(mu_);
      commit = std::exchange(answered_not_visible, nullptr);
    }
    if (commit) commit();
    return Status::Ok();
  }
  std::atomic<bool> has_leader{true};
  mutable std::mutex mu_;
  mutable std::function<void()> answered_not_visible;  // guarded by mu_
};

class WatchServer {
 public:
  WatchServer(api::WatchServiceOptions service_options, HubOptions hub_options) {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn_watch_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = mvcc::Store::Open({.path = (dir_ / "kv.db").string()});
    CAIRN_CHECK(s.ok());
    store_ = std::move(*s);
    hub_ = std::make_unique<WatchHub>(store_.get(), hub_options);
    service_ = std::make_unique<api::WatchService>(&member_, hub_.get(), service_options);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    service_->AddTo(b);
    server_ = b.BuildAndStart();
    CAIRN_CHECK(server_ != nullptr && port != 0);
    service_->Start();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  ~WatchServer() {
    server_->Shutdown(std::chrono::system_clock::now() + shutdown_grace);
    service_->Stop();
    server_.reset();
    service_.reset();
    hub_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // One request in one batch.
  int64_t Apply(const std::vector<Op>& ops) { return ApplyBatchOf({ops}); }

  // Several requests in one batch, like the apply loop: events are always recorded as
  // the ground truth, but the hub gets them only if it wanted them when the batch began.
  int64_t ApplyBatchOf(const std::vector<std::vector<Op>>& requests) {
    std::lock_guard lock(apply_mu_);
    mvcc::ApplyBatch b(*store_);
    const bool wanted = hub_->WantsEvents();
    b.EnableEvents();
    for (const auto& ops : requests) {
      mvcc::WriteTxn w(b);
      for (const Op& op : ops) {
        if (op.kind == Op::kPut) {
          etcdserverpb::PutRequest p;
          p.set_key(op.key);
          p.set_value(op.value_or_end);
          CAIRN_CHECK(w.Put(p, nullptr).ok());
        } else {
          w.DeleteRange(op.key, op.value_or_end, nullptr);
        }
      }
      w.Commit();
    }
    b.Commit(store_->AppliedIndex() + 1);
    std::vector<mvccpb::Event> events = b.TakeEvents();
    {
      std::lock_guard h(history_mu_);
      history_.insert(history_.end(), events.begin(), events.end());
    }
    hub_->OnCommitted(wanted ? std::move(events) : std::vector<mvccpb::Event>{}, store_->CurrentRevision());
    return store_->CurrentRevision();
  }
  void Compact(int64_t rev) {
    std::lock_guard lock(apply_mu_);
    mvcc::ApplyBatch b(*store_);
    if (!b.Compact(rev).ok()) return;
    while (b.CompactStep(1000)) {
    }
    b.Commit(store_->AppliedIndex() + 1);
    hub_->OnCommitted({}, store_->CurrentRevision());
  }
  std::vector<mvccpb::Event> History() {
    std::lock_guard h(history_mu_);
    return history_;
  }

  mvcc::Store& store() { return *store_; }
  WatchHub& hub() { return *hub_; }
  FakeMember& member() { return member_; }
  api::WatchService& service() { return *service_; }

  // How long the server's shutdown waits for open streams before canceling them.
  std::chrono::milliseconds shutdown_grace{5000};
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<mvcc::Store> store_;
  std::unique_ptr<WatchHub> hub_;
  FakeMember member_;
  std::unique_ptr<api::WatchService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::mutex apply_mu_;
  std::mutex history_mu_;
  std::vector<mvccpb::Event> history_;  // guarded by history_mu_
};

class WatchClient {
 public:
  // `pause` makes a slow consumer: the client stops reading for that long after every
  // 100 responses.
  explicit WatchClient(std::shared_ptr<grpc::Channel> channel, bool has_leader_md = false,
                       std::chrono::milliseconds pause = {})
      : stub_(etcdserverpb::Watch::NewStub(channel)) {
    if (has_leader_md) context_.AddMetadata("hasleader", "true");
    stream_ = stub_->Watch(&context_);
    reader_ = std::thread([this, pause] {
      etcdserverpb::WatchResponse r;
      for (int n = 1; stream_->Read(&r); ++n) {
        {
          std::lock_guard lock(mu_);
          got_.push_back(r);
          cv_.notify_all();
        }
        if (pause.count() > 0 && n % 100 == 0) std::this_thread::sleep_for(pause);
      }
      std::lock_guard lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~WatchClient() {
    if (!reader_.joinable()) return;
    stream_->WritesDone();
    reader_.join();
    (void)stream_->Finish();
  }

  bool Send(const etcdserverpb::WatchRequest& r) { return stream_->Write(r); }
  bool Create(const etcdserverpb::WatchCreateRequest& c) {
    etcdserverpb::WatchRequest r;
    *r.mutable_create_request() = c;
    return Send(r);
  }
  bool Cancel(int64_t id) {
    etcdserverpb::WatchRequest r;
    r.mutable_cancel_request()->set_watch_id(id);
    return Send(r);
  }
  bool RequestProgress() {
    etcdserverpb::WatchRequest r;
    r.mutable_progress_request();
    return Send(r);
  }
  // Waits (10 s at most) until pred(responses) holds; returns whether it did.
  bool WaitFor(const std::function<bool(const std::vector<etcdserverpb::WatchResponse>&)>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(got_); });
  }
  std::vector<etcdserverpb::WatchResponse> Responses() {
    std::lock_guard lock(mu_);
    return got_;
  }
  // Waits (10 s at most) until the server ends the stream.
  bool WaitEnded() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return ended_; });
  }
  bool Ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }
  // Gives up on the stream, as a client process that exits does: cancels the call.
  void Abandon() { context_.TryCancel(); }
  // The final status; REQUIRES: the server ended the stream (Ended()).
  grpc::Status FinishNow() {
    reader_.join();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<etcdserverpb::WatchResponse> got_;  // guarded by mu_
  bool ended_ = false;                             // guarded by mu_
};

}  // namespace cairn::watch::testing
