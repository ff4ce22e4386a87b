#include "server/api/long_calls.h"

namespace cairn::api {

LongCalls::Registration::Registration(LongCalls* calls, grpc::ServerContext* context)
    : calls_(calls), context_(context) {
  std::lock_guard lock(calls_->mu_);
  calls_->registered_.insert(context_);
  if (calls_->stopping()) context_->TryCancel();
}

LongCalls::Registration::~Registration() {
  std::lock_guard lock(calls_->mu_);
  calls_->registered_.erase(context_);
}

void LongCalls::EndAll() {
  std::lock_guard lock(mu_);
  stopping_.store(true, std::memory_order_release);
  for (grpc::ServerContext* context : registered_) context->TryCancel();
}

}  // namespace cairn::api
