#include "operator/backup/delta_segment.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstring>

namespace cairn::op::backup {

class DeltaDigest {
 public:
  DeltaDigest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    CAIRN_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1);
  }
  void Add(const char* p, size_t n) { CAIRN_CHECK(EVP_DigestUpdate(ctx_.get(), p, n) == 1); }
  std::string Finish() {
    unsigned char d[32];
    CAIRN_CHECK(EVP_DigestFinal_ex(ctx_.get(), d, nullptr) == 1);
    return std::string(reinterpret_cast<char*>(d), sizeof d);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

namespace {

constexpr size_t kMagicLen = 12;
constexpr uint8_t kRecordTag = 1;
constexpr uint8_t kEndTag = 0;
// A single event larger than this is not something etcd can hold (its request limit is
// a few MiB); refusing it keeps a damaged length from allocating gigabytes.
constexpr uint32_t kMaxEventBytes = 256u << 20;

template <typename T>
void PutLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

template <typename T>
T GetLe(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

std::string Rev20(int64_t rev) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(rev));
  return buf;
}

Status Damaged(const std::string& why) { return Status::DataLoss("delta segment: " + why); }

}  // namespace

std::string DeltaSegmentName(const std::string& prefix, int64_t first, int64_t last, Compression c) {
  return prefix + "delta-" + Rev20(first) + "-" + Rev20(last) + ".rev" + CompressionSuffix(c);
}

std::optional<DeltaSegmentKey> ParseDeltaSegmentName(const std::string& prefix, const std::string& key) {
  const std::string head = prefix + "delta-";
  if (key.compare(0, head.size(), head) != 0) return std::nullopt;
  std::string rest = key.substr(head.size());
  // 20 digits, '-', 20 digits, ".rev", suffix.
  if (rest.size() < 45 || rest[20] != '-' || rest.compare(41, 4, ".rev") != 0) return std::nullopt;
  auto digits = [](const std::string& s) {
    return s.find_first_not_of("0123456789") == std::string::npos;
  };
  const std::string a = rest.substr(0, 20), b = rest.substr(21, 20), suffix = rest.substr(45);
  if (!digits(a) || !digits(b)) return std::nullopt;
  DeltaSegmentKey k;
  k.first = std::stoll(a);
  k.last = std::stoll(b);
  if (k.first < 1 || k.last < k.first) return std::nullopt;
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    if (suffix == CompressionSuffix(c)) {
      k.compression = c;
      return k;
    }
  }
  return std::nullopt;
}

DeltaEncoder::DeltaEncoder(int64_t first_revision, ByteWriter out)
    : sha_(std::make_unique<DeltaDigest>()), out_(std::move(out)), next_(first_revision) {}
DeltaEncoder::~DeltaEncoder() = default;

std::string DeltaEncoder::TakeHeader() {
  std::string bytes;
  if (!header_written_) {
    bytes.append(kDeltaMagic, kMagicLen);
    PutLe<int64_t>(bytes, next_);
    header_written_ = true;
  }
  return bytes;
}

Status DeltaEncoder::Emit(const std::string& bytes) {
  if (sha_ == nullptr) return Status::FailedPrecondition("delta encoder already finished");
  sha_->Add(bytes.data(), bytes.size());
  return out_(bytes.data(), bytes.size());
}

Status DeltaEncoder::Add(const DeltaRevision& r) {
  if (r.revision != next_) {
    return Status::InvalidArgument("delta encoder: revision " + std::to_string(r.revision) + " where " +
                                   std::to_string(next_) + " was due");
  }
  if (r.events.empty()) return Status::InvalidArgument("delta encoder: revision " + std::to_string(r.revision) + " has no events");
  std::string bytes = TakeHeader();
  bytes.push_back(static_cast<char>(kRecordTag));
  PutLe<int64_t>(bytes, r.revision);
  PutLe<int64_t>(bytes, r.seen_unix_nanos);
  PutLe<uint32_t>(bytes, static_cast<uint32_t>(r.events.size()));
  for (const auto& e : r.events) {
    const std::string ev = e.SerializeAsString();
    PutLe<uint32_t>(bytes, static_cast<uint32_t>(ev.size()));
    bytes += ev;
  }
  CAIRN_RETURN_IF_ERROR(Emit(bytes));
  ++next_;
  return Status::Ok();
}

Status DeltaEncoder::Finish() {
  std::string bytes = TakeHeader();
  bytes.push_back(static_cast<char>(kEndTag));
  PutLe<int64_t>(bytes, next_ - 1);
  CAIRN_RETURN_IF_ERROR(Emit(bytes));
  const std::string sum = sha_->Finish();
  sha_.reset();
  return out_(sum.data(), sum.size());
}

std::string EncodeDeltaBody(int64_t first_revision, const std::vector<DeltaRevision>& revisions) {
  std::string body;
  DeltaEncoder enc(first_revision, [&](const char* p, size_t n) {
    body.append(p, n);
    return Status::Ok();
  });
  for (const auto& r : revisions) CAIRN_CHECK(enc.Add(r).ok());
  CAIRN_CHECK(enc.Finish().ok());
  return body;
}

DeltaDecoder::DeltaDecoder(ByteReader in) : sha_(std::make_unique<DeltaDigest>()), in_(std::move(in)) {}
DeltaDecoder::~DeltaDecoder() = default;

Status DeltaDecoder::ReadExact(char* buf, size_t n, bool hash) {
  size_t got = 0;
  while (got < n) {
    if (pos_ == buffered_.size()) {
      buffered_.resize(64 * 1024);
      pos_ = 0;
      auto r = in_(buffered_.data(), buffered_.size());
      if (!r.ok()) {
        buffered_.clear();
        return r.status();
      }
      buffered_.resize(*r);
      if (*r == 0) return Damaged("truncated");
    }
    const size_t k = std::min(n - got, buffered_.size() - pos_);
    std::memcpy(buf + got, buffered_.data() + pos_, k);
    if (hash) sha_->Add(buffered_.data() + pos_, k);
    pos_ += k;
    got += k;
  }
  return Status::Ok();
}

Result<int64_t> DeltaDecoder::FirstRevision() {
  if (!header_read_) {
    char head[kMagicLen + 8];
    CAIRN_RETURN_IF_ERROR(ReadExact(head, sizeof head, true));
    if (std::memcmp(head, kDeltaMagic, kMagicLen) != 0) return Damaged("not a Cairn delta segment (bad magic)");
    first_ = next_ = GetLe<int64_t>(head + kMagicLen);
    if (first_ < 1) return Damaged("first revision " + std::to_string(first_));
    header_read_ = true;
  }
  return first_;
}

Result<std::optional<DeltaRevision>> DeltaDecoder::Next() {
  if (done_) return std::optional<DeltaRevision>();
  auto first = FirstRevision();
  if (!first.ok()) return first.status();
  char tag;
  CAIRN_RETURN_IF_ERROR(ReadExact(&tag, 1, true));
  if (static_cast<uint8_t>(tag) == kEndTag) {
    char last[8];
    CAIRN_RETURN_IF_ERROR(ReadExact(last, sizeof last, true));
    last_ = GetLe<int64_t>(last);
    if (last_ != next_ - 1) {
      return Damaged("ends at revision " + std::to_string(last_) + " after revision " + std::to_string(next_ - 1));
    }
    char sum[32];
    CAIRN_RETURN_IF_ERROR(ReadExact(sum, sizeof sum, false));
    if (std::memcmp(sum, sha_->Finish().data(), sizeof sum) != 0) return Damaged("fails its checksum (SHA-256)");
    // Nothing may follow the checksum.
    char extra;
    if (pos_ < buffered_.size() || ReadExact(&extra, 1, false).ok()) return Damaged("trailing bytes after the checksum");
    done_ = true;
    return std::optional<DeltaRevision>();
  }
  if (static_cast<uint8_t>(tag) != kRecordTag) return Damaged("unknown record tag " + std::to_string(tag));
  char head[20];
  CAIRN_RETURN_IF_ERROR(ReadExact(head, sizeof head, true));
  DeltaRevision r;
  r.revision = GetLe<int64_t>(head);
  r.seen_unix_nanos = GetLe<int64_t>(head + 8);
  const uint32_t count = GetLe<uint32_t>(head + 16);
  if (r.revision != next_) {
    return Damaged("revision " + std::to_string(r.revision) + " where " + std::to_string(next_) + " was due");
  }
  if (count == 0) return Damaged("revision " + std::to_string(r.revision) + " has no events");
  std::string ev;
  for (uint32_t i = 0; i < count; ++i) {
    char len[4];
    CAIRN_RETURN_IF_ERROR(ReadExact(len, sizeof len, true));
    const uint32_t n = GetLe<uint32_t>(len);
    if (n > kMaxEventBytes) return Damaged("event of " + std::to_string(n) + " bytes");
    ev.resize(n);
    CAIRN_RETURN_IF_ERROR(ReadExact(ev.data(), n, true));
    if (!r.events.emplace_back().ParseFromString(ev)) {
      return Damaged("revision " + std::to_string(r.revision) + ": an event does not parse");
    }
  }
  ++next_;
  return std::optional<DeltaRevision>(std::move(r));
}

Result<DeltaBody> DecodeDeltaBody(const std::string& body) {
  // The checksum first: for a damaged body it is the one error that proves the damage,
  // whatever the damage would otherwise break first.
  if (body.size() < 32) return Damaged("truncated");
  DeltaDigest whole;
  whole.Add(body.data(), body.size() - 32);
  if (whole.Finish() != body.substr(body.size() - 32)) return Damaged("fails its checksum (SHA-256)");
  DeltaDecoder dec(StringReader(body));
  DeltaBody out;
  auto first = dec.FirstRevision();
  if (!first.ok()) return first.status();
  out.first = *first;
  for (;;) {
    auto r = dec.Next();
    if (!r.ok()) return r.status();
    if (!*r) break;
    out.revisions.push_back(std::move(**r));
  }
  out.last = dec.last_revision();
  return out;
}

}  // namespace cairn::op::backup
