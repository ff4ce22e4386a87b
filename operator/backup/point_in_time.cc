#include "operator/backup/point_in_time.h"

#include <algorithm>

#include "operator/api/time_format.h"
#include "operator/backup/full_backup.h"

namespace cairn::op::backup {
namespace {

// A segment is cut at max_segment_bytes of events (16 MiB by default); anything far
// larger is not one the shipper wrote.
constexpr size_t kMaxSegmentBody = 1u << 30;

std::string TargetText(const RestoreTarget& t) {
  return t.revision > 0 ? "revision " + std::to_string(t.revision) : "time " + FormatTime(*t.time);
}

// The segment's body, decompressed, checked and decoded.
Result<DeltaBody> FetchSegment(ObjectStore& store, const std::string& key, const DeltaSegmentKey& name) {
  std::string body;
  Status sink = Status::Ok();
  auto decompressor = NewDecompressor(name.compression, [&](const char* p, size_t n) {
    if (body.size() + n > kMaxSegmentBody) return Status::DataLoss("delta segment " + store.Url(key) + " is too large");
    body.append(p, n);
    return Status::Ok();
  });
  Status decode = Status::Ok();
  auto got = store.Get(key, [&](const char* p, size_t n) {
    if (decode.ok()) decode = decompressor->Write(p, n);
    return Status::Ok();
  });
  if (!got.ok()) return got.status();
  if (decode.ok()) decode = decompressor->Finish();
  if (!decode.ok()) return Status::DataLoss("delta segment " + store.Url(key) + ": " + decode.message());
  auto decoded = DecodeDeltaBody(body);
  if (!decoded.ok()) return Status::DataLoss(store.Url(key) + ": " + decoded.status().message());
  if (decoded->first != name.first || decoded->last != name.last) {
    return Status::DataLoss("delta segment " + store.Url(key) + " holds revisions " + std::to_string(decoded->first) +
                            " to " + std::to_string(decoded->last) + ", not what its name says");
  }
  return decoded;
}

}  // namespace

Result<PointInTimePlan> PlanPointInTime(ObjectStore& store, const std::string& prefix, const RestoreTarget& target) {
  if (target.revision <= 0 && !target.time) return Status::InvalidArgument("point-in-time restore needs a target");
  auto keys = store.List(prefix);
  if (!keys.ok()) return keys.status();
  std::vector<std::pair<int64_t, std::string>> fulls;  // (revision, manifest key)
  std::vector<std::pair<DeltaSegmentKey, std::string>> segments;
  for (const auto& key : *keys) {
    if (IsManifestName(key)) {
      if (auto rev = FullBackupRevision(prefix, ObjectOfManifest(key))) fulls.emplace_back(*rev, key);
    } else if (auto seg = ParseDeltaSegmentName(prefix, key)) {
      segments.emplace_back(*seg, key);
    }
  }
  std::sort(fulls.begin(), fulls.end(), std::greater<>());
  std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.first, a.first.last) < std::tie(b.first.first, b.first.last);
  });

  PointInTimePlan plan;
  for (const auto& [rev, manifest] : fulls) {
    if (target.revision > 0) {
      if (rev > target.revision) continue;
    } else {
      auto m = ReadManifest(store, manifest);
      if (!m.ok()) return m.status();
      if (m->completed > *target.time) continue;
    }
    plan.full_manifest = manifest;
    plan.full_revision = rev;
    break;
  }
  if (plan.full_manifest.empty()) {
    return Status::FailedPrecondition("no full backup under " + store.Url(prefix) + " at or before " +
                                      TargetText(target));
  }
  int64_t next = plan.full_revision + 1;
  for (const auto& [seg, key] : segments) {
    if (target.revision > 0 && next > target.revision) break;
    if (seg.last < next) continue;
    if (seg.first > next) {
      plan.after_gap = key;
      break;
    }
    plan.segments.push_back(key);
    next = seg.last + 1;
  }
  if (target.revision > 0 && next <= target.revision) {
    return Status::FailedPrecondition("the delta segments under " + store.Url(prefix) + " after the full backup at " +
                                      "revision " + std::to_string(plan.full_revision) + " end at revision " +
                                      std::to_string(next - 1) + ", before the target " + TargetText(target));
  }
  return plan;
}

Result<ReplayWritten> WriteReplay(ObjectStore& store, const PointInTimePlan& plan, const RestoreTarget& target,
                                  const ByteWriter& out) {
  DeltaEncoder encoder(plan.full_revision + 1, out);
  ReplayWritten written{plan.full_revision, 0};
  bool reached = false;  // a revision past the target was seen: nothing after it is needed
  // The prefix is whatever precedes "delta-" in the segment keys.
  for (const auto& key : plan.segments) {
    const std::string prefix = key.substr(0, key.rfind("delta-"));
    auto name = ParseDeltaSegmentName(prefix, key);
    if (!name) return Status::InvalidArgument(key + " is not a delta segment name");
    auto body = FetchSegment(store, key, *name);
    if (!body.ok()) return body.status();
    for (const auto& r : body->revisions) {
      if (r.revision <= written.last_revision) continue;
      if ((target.revision > 0 && r.revision > target.revision) ||
          (target.revision <= 0 && r.seen_unix_nanos > target.time->time_since_epoch() / std::chrono::nanoseconds(1))) {
        reached = true;
        break;
      }
      CAIRN_RETURN_IF_ERROR(encoder.Add(r));
      written.last_revision = r.revision;
      written.last_seen_unix_nanos = r.seen_unix_nanos;
    }
    if (reached) break;
  }
  if (target.revision > 0 && written.last_revision != target.revision) {
    return Status::FailedPrecondition("the delta segments end at revision " + std::to_string(written.last_revision) +
                                      ", before the target " + TargetText(target));
  }
  if (target.revision <= 0 && !reached && !plan.after_gap.empty()) {
    return Status::FailedPrecondition("the delta segments break off after revision " +
                                      std::to_string(written.last_revision) + " (the next is " +
                                      store.Url(plan.after_gap) + "): the history at " + TargetText(target) +
                                      " is incomplete");
  }
  CAIRN_RETURN_IF_ERROR(encoder.Finish());
  return written;
}

}  // namespace cairn::op::backup
