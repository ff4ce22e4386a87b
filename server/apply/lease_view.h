// LeaseView: the applier's seam to the lease module (a later issue). The applier asks
// whether a lease exists before writing a key under it, and reports attach/detach of
// keys only after the request that caused them has committed, so a rolled-back request
// never leaves lease bookkeeping behind.
// Thread-safety: called only from the apply thread.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::apply {

class LeaseView {
 public:
  virtual ~LeaseView() = default;
  virtual bool Exists(int64_t id) const = 0;
  virtual void Attach(int64_t id, const std::string& key) = 0;
  virtual void Detach(int64_t id, const std::string& key) = 0;
};

// No lease exists: every put with a lease fails with "requested lease not found".
class NoLeases final : public LeaseView {
 public:
  bool Exists(int64_t) const override { return false; }
  void Attach(int64_t, const std::string&) override {}
  void Detach(int64_t, const std::string&) override {}
};

}  // namespace cairn::apply
