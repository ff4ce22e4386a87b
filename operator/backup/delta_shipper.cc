#include "operator/backup/delta_shipper.h"

#include <algorithm>
#include <thread>

#include "operator/backup/manifest.h"

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;

int64_t UnixNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The revision an event belongs to: a put's or a delete's mod_revision.
int64_t RevisionOf(const mvccpb::Event& e) { return e.kv().mod_revision(); }

}  // namespace

Result<int64_t> ResumeRevision(ObjectStore& store, const std::string& prefix) {
  auto keys = store.List(prefix);
  if (!keys.ok()) return keys.status();
  int64_t full = 0, segments = 0;
  bool any_full = false;
  for (const auto& key : *keys) {
    if (IsManifestName(key)) {
      // Only a full backup with its manifest is one (manifest.h).
      if (auto rev = FullBackupRevision(prefix, ObjectOfManifest(key))) {
        any_full = true;
        full = std::max(full, *rev);
      }
    } else if (auto seg = ParseDeltaSegmentName(prefix, key)) {
      segments = std::max(segments, seg->last);
    }
  }
  if (!any_full) {
    return Status::FailedPrecondition("no full backup under " + store.Url(prefix) + " for delta segments to follow");
  }
  return std::max(full, segments) + 1;
}

std::vector<std::string> ExpiredDeltaSegments(const std::vector<std::string>& keys, const std::string& prefix,
                                              int64_t oldest_kept_full_revision) {
  std::vector<std::string> out;
  for (const auto& key : keys) {
    auto seg = ParseDeltaSegmentName(prefix, key);
    if (seg && seg->last <= oldest_kept_full_revision) out.push_back(key);
  }
  return out;
}

DeltaShipper::DeltaShipper(MembershipClient& members, ObjectStore& store, DeltaShipperOptions options)
    : members_(members), store_(store), options_(std::move(options)) {}

Status DeltaShipper::Ship(std::vector<DeltaRevision>& pending) {
  if (pending.empty()) return Status::Ok();
  const int64_t first = pending.front().revision, last = pending.back().revision;
  const std::string body = EncodeDeltaBody(first, pending);
  auto compressor = NewCompressor(options_.compression, StringReader(body));
  auto stored = store_.Put(DeltaSegmentName(options_.prefix, first, last, options_.compression),
                           [&](char* buf, size_t cap) { return compressor->Read(buf, cap); });
  if (!stored.ok()) return stored.status();
  pending.clear();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.shipped_revision = last;
  ++stats_.segments;
  return Status::Ok();
}

DeltaShipper::Stats DeltaShipper::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status DeltaShipper::Run(const std::function<bool()>& stop) {
  auto resume = ResumeRevision(store_, options_.prefix);
  if (!resume.ok()) return resume.status();
  if (options_.endpoints.empty()) return Status::InvalidArgument("delta shipper: no member endpoints");
  int64_t next = *resume;  // the first revision not received yet
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.shipped_revision = next - 1;
  }
  std::vector<DeltaRevision> pending;
  size_t pending_bytes = 0;
  size_t endpoint = 0;
  std::unique_ptr<EventWatch> watch;
  auto period_end = options_.now() + options_.period;
  bool upload_failed = false;  // until the period ends: no early cut, no retry

  for (;;) {
    if (stop()) return Ship(pending);
    if (watch == nullptr) {
      auto opened = members_.OpenWatch(options_.endpoints[endpoint], next);
      if (!opened.ok()) {
        endpoint = (endpoint + 1) % options_.endpoints.size();
        std::this_thread::sleep_for(options_.reconnect_backoff);
      } else {
        watch = std::move(*opened);
      }
    }
    if (watch != nullptr && pending_bytes >= 4 * options_.max_segment_bytes) {
      // The store refuses uploads: stop reading, and gRPC's flow control holds the member.
      std::this_thread::sleep_for(200ms);
    } else if (watch != nullptr) {
      auto batch = watch->Next(200ms);
      if (!batch.ok()) {
        if (batch.status().code() == StatusCode::kOutOfRange) {
          CAIRN_RETURN_IF_ERROR(Ship(pending));
          return Status::OutOfRange("delta backup: revision " + std::to_string(next) + " is compacted (up to " +
                                    std::to_string(watch->compact_revision()) +
                                    "); a new full backup must close the gap");
        }
        if (batch.status().code() != StatusCode::kUnavailable &&
            batch.status().code() != StatusCode::kDeadlineExceeded) {
          return batch.status();
        }
        watch.reset();
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++stats_.reconnects;
        }
        endpoint = (endpoint + 1) % options_.endpoints.size();
        continue;
      }
      const int64_t seen = UnixNanos(options_.now());
      int64_t batch_rev = 0;  // a response holds whole revisions: one never continues in the next
      for (auto& e : batch->events) {
        const int64_t rev = RevisionOf(e);
        if (rev == batch_rev) {
          pending.back().events.push_back(std::move(e));
        } else if (rev == next) {
          pending.push_back({rev, seen, {}});
          pending.back().events.push_back(std::move(e));
          batch_rev = rev;
          ++next;
        } else if (rev < next) {
          continue;  // delivered again after a reconnect
        } else {
          CAIRN_RETURN_IF_ERROR(Ship(pending));
          return Status::DataLoss("delta backup: the watch skipped from revision " + std::to_string(next - 1) +
                                  " to " + std::to_string(rev));
        }
        pending_bytes += pending.back().events.back().ByteSizeLong();
      }
    }
    const bool period_over = options_.now() >= period_end;
    if (period_over || (!upload_failed && pending_bytes >= options_.max_segment_bytes)) {
      const Status shipped = Ship(pending);
      upload_failed = !shipped.ok();
      if (!upload_failed) pending_bytes = 0;
      Stats now_stats;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.last_upload_error = shipped.ok() ? "" : shipped.ToString();
        // Synced only with a watch open: without one, changes may be waiting unseen.
        if (shipped.ok() && watch != nullptr) stats_.synced = options_.now();
        now_stats = stats_;
      }
      if (period_over) {
        period_end = options_.now() + options_.period;
        if (options_.on_period_end) options_.on_period_end(now_stats);
      }
    }
  }
}

}  // namespace cairn::op::backup
