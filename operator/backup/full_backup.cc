#include "operator/backup/full_backup.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "operator/api/naming.h"

namespace cairn::op::backup {
namespace {

// Opens a snapshot on the first member that streams, and reads its first bytes (which
// carry the revision the object is named after).
struct OpenedSnapshot {
  std::unique_ptr<SnapshotStream> stream;
  std::string first;
  std::string url;
};

Result<OpenedSnapshot> OpenFirst(MembershipClient& members, const FullBackupRequest& request) {
  Status last = Status::Unavailable("no member endpoints to back up from");
  for (const auto& url : request.endpoints) {
    auto stream = members.OpenSnapshot(url, request.limit);
    if (!stream.ok()) {
      last = stream.status();
      continue;
    }
    std::string first(64 * 1024, '\0');
    auto n = (*stream)->Read(first.data(), first.size());
    if (!n.ok()) {
      last = n.status();
      if (last.code() == StatusCode::kUnavailable || last.code() == StatusCode::kDeadlineExceeded) continue;
      return last;
    }
    first.resize(*n);
    return OpenedSnapshot{std::move(*stream), std::move(first), url};
  }
  return last;
}

}  // namespace

Result<BackupManifest> RunFullBackup(MembershipClient& members, ObjectStore& store, const FullBackupRequest& request) {
  BackupManifest m;
  m.cluster = request.cluster;
  m.version = request.version;
  m.compression = request.compression;
  m.started = request.now();
  auto opened = OpenFirst(members, request);
  if (!opened.ok()) return opened.status();
  SnapshotStream& stream = *opened->stream;
  m.revision = stream.revision();
  m.member_id = naming::MemberIdHex(stream.member_id());
  m.object = FullBackupObjectName(request.prefix, m.started, m.revision, m.compression);

  size_t first_pos = 0;
  auto compressor = NewCompressor(request.compression, [&](char* buf, size_t cap) -> Result<size_t> {
    if (first_pos < opened->first.size()) {
      const size_t n = std::min(cap, opened->first.size() - first_pos);
      std::memcpy(buf, opened->first.data() + first_pos, n);
      first_pos += n;
      return n;
    }
    return stream.Read(buf, cap);
  });
  auto stored = store.Put(m.object, [&](char* buf, size_t cap) { return compressor->Read(buf, cap); });
  if (!stored.ok()) return stored.status();
  m.object_size = stored->size;
  m.object_sha256 = stored->sha256;
  m.store_bytes = stream.digest().store_bytes();
  m.store_sha256 = stream.digest().store_sha256_hex();
  if (m.revision > 0) {
    auto hash = members.HashKV(opened->url, m.revision);
    if (hash.ok()) m.hash_kv = hash->hash;
  }
  m.completed = request.now();

  const std::string manifest = m.ToJson().dump(2) + "\n";
  auto written = store.Put(ManifestName(m.object), StringReader(manifest));
  if (!written.ok()) {
    (void)store.Delete(m.object);
    return written.status();
  }
  return m;
}

Result<BackupManifest> ReadManifest(ObjectStore& store, const std::string& manifest_key) {
  std::string text;
  auto got = store.Get(manifest_key, [&](const char* p, size_t n) {
    if (text.size() + n > 1024 * 1024) return Status::InvalidArgument("backup manifest " + manifest_key + " is too large");
    text.append(p, n);
    return Status::Ok();
  });
  if (!got.ok()) return got.status();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("backup manifest " + manifest_key + " is not JSON");
  return BackupManifest::Parse(j);
}

Result<BackupManifest> FetchBackup(ObjectStore& store, const std::string& manifest_key, const ByteWriter& out) {
  auto m = ReadManifest(store, manifest_key);
  if (!m.ok()) return m.status();
  SnapshotDigest digest;
  Status sink_error = Status::Ok();
  auto decompressor = NewDecompressor(m->compression, [&](const char* p, size_t n) {
    digest.Add(p, n);
    sink_error = out(p, n);
    return sink_error;
  });
  // Damage usually breaks decompression before the end; the object is read to its end
  // anyway so the refusal names the checksum, the one thing that proves the damage.
  Status decode_error = Status::Ok();
  auto got = store.Get(m->object, [&](const char* p, size_t n) {
    if (!decode_error.ok()) return Status::Ok();
    decode_error = decompressor->Write(p, n);
    return sink_error;
  });
  if (!got.ok()) return got.status();
  if (got->size != m->object_size || got->sha256 != m->object_sha256) {
    return Status::DataLoss("backup object " + store.Url(m->object) + " fails its checksum: " +
                            std::to_string(got->size) + " bytes with SHA-256 " + got->sha256 + ", the manifest says " +
                            std::to_string(m->object_size) + " bytes with SHA-256 " + m->object_sha256);
  }
  CAIRN_RETURN_IF_ERROR(decode_error);
  CAIRN_RETURN_IF_ERROR(decompressor->Finish());
  CAIRN_RETURN_IF_ERROR(digest.Finish());
  if (digest.store_sha256_hex() != m->store_sha256) {
    return Status::DataLoss("backup object " + store.Url(m->object) + " holds a different snapshot than its manifest");
  }
  return m;
}

std::vector<std::string> PreferFollowers(const std::vector<std::string>& urls,
                                         const Result<std::vector<MemberState>>& observed) {
  if (!observed.ok()) return urls;
  std::vector<MemberState> order = *observed;
  std::stable_sort(order.begin(), order.end(), [](const MemberState& a, const MemberState& b) {
    return std::make_tuple(!a.healthy, a.is_leader) < std::make_tuple(!b.healthy, b.is_leader);
  });
  std::vector<std::string> out;
  for (const auto& m : order) {
    if (m.is_learner || m.name.empty()) continue;
    for (const auto& url : urls) {
      if (url.find("//" + m.name + ".") != std::string::npos) out.push_back(url);
    }
  }
  for (const auto& url : urls) {
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
  }
  return out;
}


}  // namespace cairn::op::backup
