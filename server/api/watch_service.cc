#include "server/api/watch_service.h"

#include <atomic>
#include <deque>
#include <memory>
#include <string>

#include "server/api/caller.h"
#include "server/api/watch_response_encoder.h"
#include "server/watch/stream_queue.h"

namespace cairn::api {
namespace {

using etcdserverpb::WatchRequest;

const grpc::Status& NoLeader() {
  static const grpc::Status kStatus(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader");
  return kStatus;
}

const grpc::Status& Stopped() {
  static const grpc::Status kStatus(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
  return kStatus;
}

// etcd sends its gRPC error's text: "rpc error: code = PermissionDenied desc = ...".
constexpr const char* kPermissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied";

bool WantsLeader(const grpc::ServerContext& context) {
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

}  // namespace

// One watch stream: a small state machine over its completion queue.
//
// Lifetime: ops_ counts the operations in flight (the accept, then the read, the write
// and the finish), plus the references of service threads that are ending the stream
// (TryHold); the stream deletes itself when the count drops to zero. Until the
// stream is closing_ a read is always in flight, and once it is, the finish is started
// (by Shutdown, or by the write owner) and nothing else is, so the count reaches zero
// exactly once, after the finish. No done notification is asked for: it would be one
// more long-lived entry in the queue's debug list that every completion scans.
// Locking: mu_ serialises the hub calls of this stream with Shutdown(), so no hub call
// can follow CloseStream(). Writes need no lock: only the thread that owns the write
// (StreamQueue's handshake) touches outbox_. Lock order: mu_ -> hub mutex -> queue
// mutex; WriteNext() (run by the hub's wake-up under the hub mutex) takes none of them
// except the queue's.
class WatchStream {
 public:
  enum class Op { kAccept, kRead, kWrite, kFinish };
  struct Tag {
    WatchStream* stream;
    Op op;
  };

  // Accepted through `accept_cq`; the call's own operations complete on `call_cq`.
  WatchStream(WatchService* service, grpc::ServerCompletionQueue* accept_cq, grpc::ServerCompletionQueue* call_cq)
      : service_(service), accept_cq_(accept_cq) {
    service_->Born();
    Hold();
    service_->RequestAsyncBidiStreaming(0, &context_, &rw_, call_cq, accept_cq_, &accept_tag_);
  }
  ~WatchStream() { service_->Died(this, tracked_); }

  bool wants_leader() const { return wants_leader_; }

  // For a thread other than the stream's own (the service ending it): a reference that
  // keeps the stream alive until Release(), unless the stream is already on its way out
  // (its last operation completed and it is being deleted). REQUIRES: the object is
  // still allocated: the caller holds the service's mu_ and the stream is tracked (its
  // destructor waits for mu_ before it frees anything).
  bool TryHold() {
    int n = ops_.load(std::memory_order_relaxed);
    while (n > 0) {
      if (ops_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }
  void Release() {
    if (ops_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Runs on the queue's thread for each completed operation.
  void Completed(Op op, bool ok) {
    switch (op) {
      case Op::kAccept:
        if (ok) Accepted();
        break;
      case Op::kRead:
        ReadDone(ok);
        break;
      case Op::kWrite:
        WriteDone(ok);
        break;
      case Op::kFinish:
        break;
    }
    Release();
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
  void Hold() { ops_.fetch_add(1, std::memory_order_relaxed); }

  void Accepted() {
    service_->AcceptOn(accept_cq_);
    wants_leader_ = WantsLeader(context_);
    if (wants_leader_ && !service_->member_->HasLeader()) {
      closing_ = true;  // refused before anything else can see the stream
      return Finish(NoLeader());
    }
    queue_ = std::make_shared<watch::StreamQueue>(service_->options_.stream_buffer_events, [this] { WriteNext(); });
    {
      std::lock_guard lock(mu_);
      stream_ = service_->hub_->OpenStream(queue_);
    }
    // Tracked only now: the leader monitor, or the service stopping, may end the stream
    // at once.
    tracked_ = true;
    if (!service_->Track(this)) return Shutdown(Stopped());
    Read();
  }

  void Read() {
    Hold();
    rw_.Read(&request_, &read_tag_);
  }

  void ReadDone(bool ok) {
    if (!ok) return Shutdown(grpc::Status::OK);
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      Handle(request_);
    }
    Read();
  }

  void WriteDone(bool ok) {
    if (ok) {
      outbox_.pop_front();
    } else {
      // The call is gone: the rest of the outbox could only fail one write at a time.
      Shutdown(grpc::Status::OK);
      outbox_.clear();
    }
    WriteNext();
  }

  void Handle(const WatchRequest& req) {
    watch::WatchHub& hub = *service_->hub_;
    if (req.has_create_request()) {
      watch::WatchSpec spec = SpecOf(req.create_request());
      if (!service_->member_->CheckWatch(context_, spec.key, spec.range_end).ok()) {
        return hub.Refuse(stream_, spec.watch_id, kPermissionDeniedReason);
      }
      // Without it a client that saw its put answered could then watch "from now" and
      // be sent that put. A stopping member fails the barrier; the stream ends anyway.
      if (spec.start_revision == 0) (void)service_->member_->LocalReadBarrier();
      hub.Watch(stream_, spec);
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
    Hold();
    rw_.Write(outbox_.front(), more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions(), &write_tag_);
  }

  // REQUIRES: no write in flight (the write owner, or nobody owns the write).
  void Finish(const grpc::Status& status) {
    Hold();
    rw_.Finish(status, &finish_tag_);
  }

  void Render(watch::Delivery&& d) {
    const WatchContext& m = *service_->member_;
    AppendResponses(std::move(d), {.cluster_id = m.ClusterId(), .member_id = m.MemberId(), .raft_term = m.RaftTerm()},
                    service_->options_.max_response_bytes, &outbox_);
  }

  WatchService* const service_;
  grpc::ServerCompletionQueue* const accept_cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<OutgoingWatchResponse, WatchRequest> rw_{&context_};
  Tag accept_tag_{this, Op::kAccept};
  Tag read_tag_{this, Op::kRead};
  Tag write_tag_{this, Op::kWrite};
  Tag finish_tag_{this, Op::kFinish};
  std::atomic<int> ops_{0};
  bool wants_leader_ = false;  // set before the stream is tracked, then read-only
  bool tracked_ = false;       // in the service's streams_ (set on the queue thread)
  std::shared_ptr<watch::StreamQueue> queue_;
  watch::WatchHub::StreamId stream_ = 0;
  WatchRequest request_;                      // the read in flight
  std::deque<OutgoingWatchResponse> outbox_;  // write owner only; front() is being written

  std::mutex mu_;
  bool closing_ = false;        // guarded by mu_
  grpc::Status final_status_;  // written once under mu_ before the queue closes
};

Status ServerWatchContext::CheckWatch(const grpc::ServerContext& context, const std::string& key,
                                      const std::string& range_end) const {
  if (!server_->auth_store().enabled()) return Status::Ok();
  auto caller = CallerOf(*server_, context);
  if (!caller.ok()) return caller.status();
  return server_->auth_store().IsRangePermitted(*caller, key, range_end);
}

WatchService::WatchService(const WatchContext* member, watch::WatchHub* hub, WatchServiceOptions options)
    : member_(member), hub_(hub), options_(options), monitor_([this] { MonitorLeader(); }) {
  // Method 0 of etcdserverpb.Watch is Watch, served on the async API with responses
  // that gRPC serializes from OutgoingWatchResponse.
  MarkMethodAsync(0);
}

WatchService::~WatchService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  monitor_.join();
}

void WatchService::AddTo(grpc::ServerBuilder& builder) {
  builder.RegisterService(this);
  for (int i = 0; i < options_.completion_queues; ++i) queues_.push_back(builder.AddCompletionQueue());
}

void WatchService::Start() {
  for (auto& q : queues_) {
    AcceptOn(q.get());
    queue_threads_.emplace_back([cq = q.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (cq->Next(&tag, &ok)) {
        auto* t = static_cast<WatchStream::Tag*>(tag);
        t->stream->Completed(t->op, ok);
      }
    });
  }
}

void WatchService::Stop() {
  // A stream whose call the server's shutdown canceled still starts its finish when it
  // sees that; a queue must not be shut down under it, so wait until every stream
  // (pending accepts included, which the shutdown failed) has deleted itself.
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return live_ == 0; });
  }
  for (auto& q : queues_) q->Shutdown();
  for (auto& t : queue_threads_) t.join();
  queue_threads_.clear();
}

void WatchService::AcceptOn(grpc::ServerCompletionQueue* cq) {
  // Whichever queue accepts a stream, its operations go round-robin to every queue, so
  // the streams (and the debug list each completion scans) are spread evenly.
  const size_t next = next_queue_.fetch_add(1, std::memory_order_relaxed) % queues_.size();
  new WatchStream(this, cq, queues_[next].get());
}

bool WatchService::Track(WatchStream* s) {
  std::lock_guard lock(mu_);
  streams_.insert(s);
  return !ending_;
}

void WatchService::Born() {
  std::lock_guard lock(mu_);
  ++live_;
}

void WatchService::Died(WatchStream* s, bool tracked) {
  std::lock_guard lock(mu_);
  if (tracked) streams_.erase(s);
  if (--live_ == 0) cv_.notify_all();
}

void WatchService::EndStreams() {
  std::unique_lock lock(mu_);
  ending_ = true;
  EndTracked(lock, [](const WatchStream&) { return true; }, Stopped());
}

void WatchService::EndTracked(std::unique_lock<std::mutex>& lock, bool (*pick)(const WatchStream&),
                              const grpc::Status& status) {
  // A stream can complete its last operation (a client's cancel) at any moment, so each
  // is held while it is ended: a stream's destructor waits for mu_, so while mu_ is held
  // every tracked stream is still allocated and can be held, unless it is already being
  // deleted. The streams are ended without mu_, which their release may need.
  std::vector<WatchStream*> held;
  for (WatchStream* s : streams_) {
    if (pick(*s) && s->TryHold()) held.push_back(s);
  }
  lock.unlock();
  for (WatchStream* s : held) {
    s->Shutdown(status);
    s->Release();
  }
  lock.lock();
}

void WatchService::MonitorLeader() {
  using Clock = std::chrono::steady_clock;
  bool leader_lost = false;
  Clock::time_point lost_since;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.leader_check_interval);
    if (stopping_ || streams_.empty()) continue;
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
    EndTracked(lock, [](const WatchStream& s) { return s.wants_leader(); }, NoLeader());
  }
}

}  // namespace cairn::api
