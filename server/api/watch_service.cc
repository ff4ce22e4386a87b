#include "server/api/watch_service.h"

#include <deque>
#include <memory>
#include <string>

#include "server/api/watch_response_encoder.h"
#include "server/watch/stream_queue.h"

namespace cairn::api {
namespace {

using etcdserverpb::WatchRequest;

const grpc::Status& NoLeader() {
  static const grpc::Status kStatus(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader");
  return kStatus;
}

bool WantsLeader(const grpc::CallbackServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("hasleader");
  return it != md.end() && it->second == "true";
}

watch::WatchSpec SpecOf(const etcdserverpb::WatchCreateRequest& c) {
  watch::WatchSpec s;
  // etcd: an empty key means "\0", the smallest key.
  s.key = c.key().empty() ? std::string(1, '\0') : c.key();
  s.range_end = c.range_end();
  s.start_revision = c.start_revision();
  s.watch_id = c.watch_id();
  s.prev_kv = c.prev_kv();
  s.progress_notify = c.progress_notify();
  s.fragment = c.fragment();
  for (int f : c.filters()) {
    if (f == etcdserverpb::WatchCreateRequest::NOPUT) s.no_put = true;
    if (f == etcdserverpb::WatchCreateRequest::NODELETE) s.no_delete = true;
  }
  return s;
}

// A stream refused at the start ("hasleader" without a leader).
class RejectReactor final : public grpc::ServerBidiReactor<WatchRequest, OutgoingWatchResponse> {
 public:
  explicit RejectReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

// One watch stream.
//
// Locking: mu_ serialises the hub calls of this stream with Shutdown(), so no hub call
// can follow CloseStream(). Writes need no lock: only the thread that owns the write
// (StreamQueue's handshake) touches outbox_, and gRPC orders StartWrite before its
// OnWriteDone. Lock order: mu_ -> hub mutex -> queue mutex; WriteNext() (run by the
// hub's wake-up under the hub mutex) takes none of them except the queue's.
class WatchReactor final : public grpc::ServerBidiReactor<WatchRequest, OutgoingWatchResponse> {
 public:
  WatchReactor(WatchService* service, bool wants_leader) : service_(service), wants_leader_(wants_leader) {
    queue_ = std::make_shared<watch::StreamQueue>(service_->options_.stream_buffer_events, [this] { WriteNext(); });
    stream_ = service_->hub_->OpenStream(queue_);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Shutdown(grpc::Status::OK);
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      Handle(request_);
    }
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) Shutdown(grpc::Status::OK);
    outbox_.pop_front();
    WriteNext();
  }

  void OnDone() override {
    if (wants_leader_) service_->Forget(this);
    delete this;
  }

  // Ends the stream with `status` (once; later calls do nothing).
  void Shutdown(const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      closing_ = true;
      final_status_ = status;
      service_->hub_->CloseStream(stream_);
    }
    if (queue_->Close()) Finish(final_status_);
  }

 private:
  void Handle(const WatchRequest& req) {
    watch::WatchHub& hub = *service_->hub_;
    if (req.has_create_request()) {
      hub.Watch(stream_, SpecOf(req.create_request()));
    } else if (req.has_cancel_request()) {
      hub.Cancel(stream_, req.cancel_request().watch_id());
    } else if (req.has_progress_request()) {
      hub.RequestProgress(stream_);
    }
  }

  // Runs on the thread that owns the write.
  void WriteNext() {
    if (!outbox_.empty()) return Write();
    watch::Delivery d;
    switch (queue_->Pop(&d)) {
      case watch::StreamQueue::Next::kDelivery:
        Render(std::move(d));
        return Write();
      case watch::StreamQueue::Next::kIdle:
        return;
      case watch::StreamQueue::Next::kFinish:
        outbox_.clear();
        return Finish(final_status_);
    }
  }

  // Writes outbox_.front(). While more responses are certain to follow (only the write
  // owner pops, so anything queued now will be written next), gRPC may coalesce them
  // into one flush; the last one is written without the hint, which flushes.
  void Write() {
    const bool more = outbox_.size() > 1 || queue_->Size() > 0;
    StartWrite(&outbox_.front(), more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
  }

  void Render(watch::Delivery&& d) {
    const WatchContext& m = *service_->member_;
    AppendResponses(std::move(d), {.cluster_id = m.ClusterId(), .member_id = m.MemberId(), .raft_term = m.RaftTerm()},
                   service_->options_.max_response_bytes, &outbox_);
  }

  WatchService* const service_;
  const bool wants_leader_;
  std::shared_ptr<watch::StreamQueue> queue_;
  watch::WatchHub::StreamId stream_ = 0;
  WatchRequest request_;                     // the read in flight
  std::deque<OutgoingWatchResponse> outbox_;  // write owner only; front() is being written

  std::mutex mu_;
  bool closing_ = false;        // guarded by mu_
  grpc::Status final_status_;  // written once under mu_ before the queue closes
};

WatchService::WatchService(const WatchContext* member, watch::WatchHub* hub, WatchServiceOptions options)
    : member_(member), hub_(hub), options_(options), monitor_([this] { MonitorLeader(); }) {
  // Method 0 of etcdserverpb.Watch is Watch; the handler is the generated callback one
  // but with responses that gRPC serializes from OutgoingWatchResponse.
  MarkMethodCallback(0, new grpc::internal::CallbackBidiHandler<WatchRequest, OutgoingWatchResponse>(
                            [this](grpc::CallbackServerContext* context) { return NewStream(context); }));
}

WatchService::~WatchService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  monitor_.join();
}

grpc::ServerBidiReactor<WatchRequest, OutgoingWatchResponse>* WatchService::NewStream(
    grpc::CallbackServerContext* context) {
  const bool wants_leader = WantsLeader(*context);
  if (wants_leader && !member_->HasLeader()) return new RejectReactor(NoLeader());
  auto* r = new WatchReactor(this, wants_leader);
  if (wants_leader) {
    std::lock_guard lock(mu_);
    leader_streams_.insert(r);
  }
  return r;
}

void WatchService::Forget(WatchReactor* r) {
  std::lock_guard lock(mu_);
  leader_streams_.erase(r);
}

void WatchService::MonitorLeader() {
  using Clock = std::chrono::steady_clock;
  bool leader_lost = false;
  Clock::time_point lost_since;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.leader_check_interval);
    if (stopping_ || leader_streams_.empty()) continue;
    if (member_->HasLeader()) {
      leader_lost = false;
      continue;
    }
    const auto now = Clock::now();
    if (!leader_lost) {
      leader_lost = true;
      lost_since = now;
    }
    if (now - lost_since < options_.leader_loss_grace) continue;
    // Shutdown() takes the reactor's lock, never this one, and a reactor leaves
    // leader_streams_ (OnDone, under mu_) only after it finished, so every pointer
    // here is alive while mu_ is held.
    for (WatchReactor* r : leader_streams_) r->Shutdown(NoLeader());
  }
}

}  // namespace cairn::api
