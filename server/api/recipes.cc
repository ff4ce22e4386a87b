#include "server/api/recipes.h"

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/auth/errors.h"
#include "server/auth/request_permissions.h"

#include <cstdio>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "server/etcdserver/errors.h"
#include "server/watch/stream_queue.h"

namespace cairn::api {
Result<std::vector<watch::SharedEvent>> WaitForEvents(watch::WatchHub& hub, const watch::WatchSpec& spec,
                                                      grpc::ServerContext* context, const LongCalls& calls) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  auto signal = std::make_shared<Signal>();
  auto queue = std::make_shared<watch::StreamQueue>(64, [signal] {
    std::lock_guard lock(signal->mu);
    signal->woken = true;
    signal->cv.notify_one();
  });
  const auto stream = hub.OpenStream(queue);
  hub.Watch(stream, spec);
  Status result = Status::Ok();
  std::vector<watch::SharedEvent> events;
  bool done = false;
  while (!done) {
    watch::Delivery d;
    switch (queue->Pop(&d)) {
      case watch::StreamQueue::Next::kDelivery:
        if (d.kind == watch::Delivery::Kind::kEvents) events = std::move(d.events);
        if (d.kind == watch::Delivery::Kind::kEvents || d.kind == watch::Delivery::Kind::kCompacted) done = true;
        break;
      case watch::StreamQueue::Next::kFinish:
        done = true;
        break;
      case watch::StreamQueue::Next::kIdle: {
        std::unique_lock lock(signal->mu);
        signal->cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return signal->woken; });
        signal->woken = false;
        if (context->IsCancelled()) {
          result = Status(StatusCode::kCancelled, "context canceled");
          done = true;
        } else if (calls.stopping()) {
          result = etcdserver::ErrStopped();
          done = true;
        }
        break;
      }
    }
  }
  hub.CloseStream(stream);
  if (!result.ok()) return result;
  return events;
}

std::string LeaseKey(const std::string& prefix, int64_t lease) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(lease));
  return prefix + buf;
}

etcdserverpb::RequestOp FirstCreatedOp(const std::string& prefix) {
  etcdserverpb::RequestOp op;
  auto* range = op.mutable_request_range();
  range->set_key(prefix);
  range->set_range_end(PrefixRangeEnd(prefix));
  range->set_sort_target(etcdserverpb::RangeRequest::CREATE);
  range->set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  range->set_limit(1);
  return op;
}

grpc::Status RecipeStatus(const Status& st) { return ToGrpc(auth::AsRecipeError(st)); }

std::string PrefixRangeEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // no upper bound: every key >= prefix
}

Status WaitDeletes(etcdserver::EtcdServer* server, const std::string& prefix, int64_t max_create_revision,
                   grpc::ServerContext* context, const LongCalls& calls) {
  while (true) {
    CAIRN_RETURN_IF_ERROR(server->ReadBarrier());
    etcdserverpb::RangeRequest newest_before;
    newest_before.set_key(prefix);
    newest_before.set_range_end(PrefixRangeEnd(prefix));
    newest_before.set_max_create_revision(max_create_revision);
    newest_before.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    newest_before.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
    newest_before.set_limit(1);
    auto caller = CallerOf(*server, *context);
    if (!caller.ok()) return caller.status();
    CAIRN_RETURN_IF_ERROR(auth::CheckRange(server->auth_store(), *caller, newest_before));
    auto result = server->applier().Range(newest_before);
    if (!result.ok()) return result.status();
    if (result->kvs_size() == 0) return Status::Ok();
    watch::WatchSpec deletion;
    deletion.key = result->kvs(0).key();
    deletion.start_revision = result->header().revision() + 1;
    deletion.no_put = true;
    CAIRN_RETURN_IF_ERROR(WaitForEvents(server->watch_hub(), deletion, context, calls).status());
  }
}

}  // namespace cairn::api
