#include "operator/etcd/event_watch.h"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::op {
namespace {

namespace pb = etcdserverpb;

// Responses held while the consumer is busy; a response carries up to a member's
// batch of revisions, so this bounds memory at a few of those.
constexpr size_t kQueueLimit = 16;

class GrpcEventWatch : public EventWatch {
 public:
  GrpcEventWatch(const std::shared_ptr<grpc::Channel>& channel, std::string url, int64_t start_revision,
                 const std::string& token)
      : stub_(channel), url_(std::move(url)) {
    if (!token.empty()) ctx_.AddMetadata("token", token);
    stream_ = stub_.Watch(&ctx_);
    pb::WatchRequest req;
    auto* create = req.mutable_create_request();
    create->set_key(std::string(1, '\0'));
    create->set_range_end(std::string(1, '\0'));
    create->set_start_revision(start_revision);
    // Progress notifications tell an idle watch apart from a dead one.
    create->set_progress_notify(true);
    // A failed write means the stream is already over: the reader then sees it end and
    // collects its status.
    (void)stream_->Write(req);
    reader_ = std::thread([this] { ReadLoop(); });
  }

  ~GrpcEventWatch() override {
    ctx_.TryCancel();
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    if (reader_.joinable()) reader_.join();
  }

  Result<WatchBatch> Next(std::chrono::milliseconds wait) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !queue_.empty() || !error_.ok(); });
    if (!queue_.empty()) {
      WatchBatch b;
      b.events.assign(std::make_move_iterator(queue_.front().mutable_events()->begin()),
                      std::make_move_iterator(queue_.front().mutable_events()->end()));
      queue_.pop_front();
      cv_.notify_all();
      return b;
    }
    if (!error_.ok()) return error_;
    return WatchBatch{};
  }

  int64_t compact_revision() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return compact_revision_;
  }

 private:
  void Stop(Status why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(why);
    cv_.notify_all();
  }

  void ReadLoop() {
    pb::WatchResponse resp;
    while (stream_->Read(&resp)) {
      if (resp.compact_revision() != 0) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          compact_revision_ = resp.compact_revision();
        }
        Stop(Status::OutOfRange("Watch " + url_ + ": the start revision is compacted (compacted up to " +
                                std::to_string(resp.compact_revision()) + ")"));
        break;
      }
      if (resp.canceled()) {
        Stop(Status::Unavailable("Watch " + url_ + " canceled by the member: " + resp.cancel_reason()));
        break;
      }
      if (resp.events().empty()) continue;  // created, or progress
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return queue_.size() < kQueueLimit || closing_; });
      if (closing_) break;
      queue_.push_back(std::move(resp));
      resp = pb::WatchResponse();
      cv_.notify_all();
    }
    ctx_.TryCancel();
    (void)stream_->WritesDone();
    const grpc::Status st = stream_->Finish();
    Stop(st.ok() ? Status::Unavailable("Watch " + url_ + ": the member ended the stream")
                 : Status(st.error_code() == grpc::StatusCode::CANCELLED ? StatusCode::kUnavailable
                                                                          : static_cast<StatusCode>(st.error_code()),
                          "Watch " + url_ + ": " + st.error_message()));
  }

  pb::Watch::Stub stub_;
  std::string url_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream_;
  std::thread reader_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<pb::WatchResponse> queue_;
  Status error_ = Status::Ok();
  int64_t compact_revision_ = 0;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<EventWatch> StartEventWatch(const std::shared_ptr<grpc::Channel>& channel, std::string url,
                                            int64_t start_revision, const std::string& token) {
  return std::make_unique<GrpcEventWatch>(channel, std::move(url), start_revision, token);
}

}  // namespace cairn::op
