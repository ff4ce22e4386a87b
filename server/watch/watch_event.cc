#include "server/watch/watch_event.h"

namespace cairn::watch {

const std::string& WatchEvent::Encoded(bool with_prev_kv) const {
  // Without a prev_kv both forms are the same bytes.
  const int form = with_prev_kv && event_.has_prev_kv() ? 1 : 0;
  if (ready_[form].load(std::memory_order_acquire)) return encoded_[form];
  std::lock_guard lock(mu_);
  if (!ready_[form].load(std::memory_order_relaxed)) {
    if (form == 1 || !event_.has_prev_kv()) {
      encoded_[form] = event_.SerializeAsString();
    } else {
      mvccpb::Event stripped;
      stripped.set_type(event_.type());
      *stripped.mutable_kv() = event_.kv();
      encoded_[form] = stripped.SerializeAsString();
    }
    ready_[form].store(true, std::memory_order_release);
  }
  return encoded_[form];
}

}  // namespace cairn::watch
