#include "operator/leader/leader_elector.h"

#include <condition_variable>
#include <ctime>

namespace cairn::op {
namespace {

using json = nlohmann::json;

}  // namespace

std::string FormatMicroTime(TimePoint t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%s.%06lldZ", buf, static_cast<long long>(us % 1000000));
  return out;
}

LeaderElector::LeaderElector(kube::Client& client, LeaderElectionConfig config, ClockFn clock)
    : client_(client), config_(std::move(config)), clock_(std::move(clock)) {}

json LeaderElector::Record(const json& lease) const { return lease.value("spec", json::object()); }

bool LeaderElector::TryAcquireOrRenew() {
  const TimePoint now = clock_();
  const std::string now_s = FormatMicroTime(now);
  const int duration_s = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(config_.lease_duration).count());

  auto live = client_.Get(kube::types::Lease(), config_.ns, config_.name);
  reachable_ = live.ok() || live.status().code() == StatusCode::kNotFound;
  if (!live.ok() && live.status().code() == StatusCode::kNotFound) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                  {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
                  {"spec", {{"holderIdentity", config_.identity}, {"leaseDurationSeconds", duration_s},
                            {"acquireTime", now_s}, {"renewTime", now_s}, {"leaseTransitions", 0}}}};
    auto created = client_.Create(kube::types::Lease(), config_.ns, lease);
    std::lock_guard<std::mutex> lock(mu_);
    if (!created.ok()) return holding_ = false;
    observed_record_ = Record(*created);
    observed_rv_ = (*created)["metadata"]["resourceVersion"];
    observed_time_ = now;
    last_renew_ = now;
    return holding_ = true;
  }
  if (!live.ok()) return false;  // keep the current belief; IsLeader() times it out

  std::lock_guard<std::mutex> lock(mu_);
  json record = Record(*live);
  if (record != observed_record_) {
    observed_record_ = record;
    observed_time_ = now;
  }
  observed_rv_ = (*live)["metadata"]["resourceVersion"];
  const std::string holder = record.value("holderIdentity", "");
  const bool mine = holder == config_.identity;
  const auto observed_duration = std::chrono::seconds(record.value("leaseDurationSeconds", duration_s));
  if (!holder.empty() && !mine && observed_time_ + observed_duration > now) {
    holding_ = false;  // someone else holds an unexpired lease
    return false;
  }

  json next = *live;
  json& spec = next["spec"];
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = now_s;
  if (!mine) {
    spec["acquireTime"] = now_s;
    spec["leaseTransitions"] = record.value("leaseTransitions", 0) + 1;
  }
  auto written = client_.Update(kube::types::Lease(), config_.ns, next);
  if (!written.ok()) {
    // A conflict means another replica wrote first; any other error is an unknown outcome.
    // Either way we have not renewed, and IsLeader() expires on its own.
    if (!mine) holding_ = false;
    return holding_ && mine && now - last_renew_ < config_.renew_deadline;
  }
  observed_record_ = Record(*written);
  observed_rv_ = (*written)["metadata"]["resourceVersion"];
  observed_time_ = now;
  last_renew_ = now;
  return holding_ = true;
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return holding_ && clock_() - last_renew_ < config_.renew_deadline;
}

Status LeaderElector::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!holding_) return Status::Ok();
  holding_ = false;
  auto live = client_.Get(kube::types::Lease(), config_.ns, config_.name);
  if (!live.ok()) return live.status();
  if ((*live)["spec"].value("holderIdentity", "") != config_.identity) return Status::Ok();
  json next = *live;
  const std::string now_s = FormatMicroTime(clock_());
  next["spec"]["holderIdentity"] = "";
  next["spec"]["leaseDurationSeconds"] = 1;
  next["spec"]["renewTime"] = now_s;
  next["spec"]["acquireTime"] = now_s;
  auto written = client_.Update(kube::types::Lease(), config_.ns, next);
  return written.ok() ? Status::Ok() : written.status();
}

void LeaderElector::Run(std::stop_token stop, const std::function<void()>& on_started,
                        const std::function<void()>& on_stopped) {
  std::mutex sleep_mu;
  std::condition_variable_any sleep_cv;
  auto sleep = [&](std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(sleep_mu);
    sleep_cv.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
  };
  while (!TryAcquireOrRenew()) {
    if (!sleep(config_.retry_period)) return;
  }
  on_started();
  while (sleep(config_.retry_period)) {
    TryAcquireOrRenew();
    if (!IsLeader()) {
      on_stopped();
      return;
    }
  }
  // Stop acting first, then hand the Lease over: never both released and still acting.
  on_stopped();
  (void)Release();
}

}  // namespace cairn::op
