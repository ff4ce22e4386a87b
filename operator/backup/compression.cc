#include "operator/backup/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace cairn::op::backup {
namespace {

constexpr size_t kChunk = 64 * 1024;

class PlainCompressor : public Compressor {
 public:
  explicit PlainCompressor(ByteReader source) : source_(std::move(source)) {}
  Result<size_t> Read(char* buf, size_t cap) override {
    auto n = source_(buf, cap);
    if (n.ok()) bytes_in_ += *n;
    return n;
  }
  uint64_t bytes_in() const override { return bytes_in_; }

 private:
  ByteReader source_;
  uint64_t bytes_in_ = 0;
};

// What the zlib and zstd compressors share: an input buffer refilled from the source.
class BufferedCompressor : public Compressor {
 public:
  explicit BufferedCompressor(ByteReader source) : source_(std::move(source)), in_(kChunk) {}
  uint64_t bytes_in() const override { return bytes_in_; }

 protected:
  // Refills the input when it is used up; false once the source has ended.
  Result<bool> Refill(size_t& avail) {
    if (avail > 0 || source_ended_) return !source_ended_ || avail > 0;
    auto n = source_(in_.data(), in_.size());
    if (!n.ok()) return n.status();
    if (*n == 0) source_ended_ = true;
    avail = *n;
    bytes_in_ += *n;
    return !source_ended_;
  }

  ByteReader source_;
  std::vector<char> in_;
  bool source_ended_ = false;
  bool done_ = false;
  uint64_t bytes_in_ = 0;
};

class GzipCompressor : public BufferedCompressor {
 public:
  explicit GzipCompressor(ByteReader source) : BufferedCompressor(std::move(source)) {
    // 15 + 16: a 32 KiB window with a gzip header and trailer instead of zlib's.
    CAIRN_CHECK(deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  }
  ~GzipCompressor() override { deflateEnd(&z_); }

  Result<size_t> Read(char* buf, size_t cap) override {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(cap);
    while (!done_ && z_.avail_out == cap) {
      size_t avail = z_.avail_in;
      auto more = Refill(avail);
      if (!more.ok()) return more.status();
      if (avail != z_.avail_in) {
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(avail);
      }
      const int rc = deflate(&z_, source_ended_ ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_END) done_ = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::Internal("gzip: deflate failed: " + std::to_string(rc));
    }
    return cap - z_.avail_out;
  }

 private:
  z_stream z_{};
};

class ZstdCompressor : public BufferedCompressor {
 public:
  explicit ZstdCompressor(ByteReader source) : BufferedCompressor(std::move(source)), ctx_(ZSTD_createCCtx()) {
    CAIRN_CHECK(ctx_ != nullptr);
    // A content checksum in every frame, so damage inside the data is detected on restore.
    CAIRN_CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_checksumFlag, 1)));
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(ctx_); }

  Result<size_t> Read(char* buf, size_t cap) override {
    ZSTD_outBuffer out{buf, cap, 0};
    while (!done_ && out.pos == 0) {
      size_t avail = in_buf_.size - in_buf_.pos;
      const size_t before = avail;
      auto more = Refill(avail);
      if (!more.ok()) return more.status();
      if (avail != before) in_buf_ = ZSTD_inBuffer{in_.data(), avail, 0};
      const size_t left = ZSTD_compressStream2(ctx_, &out, &in_buf_, source_ended_ ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (source_ended_ && left == 0) done_ = true;
    }
    return out.pos;
  }

 private:
  ZSTD_CCtx* ctx_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
};

class PlainDecompressor : public Decompressor {
 public:
  explicit PlainDecompressor(ByteWriter sink) : sink_(std::move(sink)) {}
  Status Write(const char* data, size_t n) override { return sink_(data, n); }
  Status Finish() override { return Status::Ok(); }

 private:
  ByteWriter sink_;
};

class GzipDecompressor : public Decompressor {
 public:
  explicit GzipDecompressor(ByteWriter sink) : sink_(std::move(sink)), out_(kChunk) {
    CAIRN_CHECK(inflateInit2(&z_, 15 + 16) == Z_OK);
  }
  ~GzipDecompressor() override { inflateEnd(&z_); }

  Status Write(const char* data, size_t n) override {
    if (n == 0) return Status::Ok();
    if (ended_) return Status::DataLoss("gzip: data after the end of the compressed stream");
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(n);
    while (z_.avail_in > 0 && !ended_) {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) ended_ = true;
      else if (rc != Z_OK) {
        return Status::DataLoss(std::string("gzip: the object is not valid gzip data: ") + (z_.msg ? z_.msg : "error"));
      }
      CAIRN_RETURN_IF_ERROR(sink_(out_.data(), out_.size() - z_.avail_out));
    }
    if (ended_ && z_.avail_in > 0) return Status::DataLoss("gzip: data after the end of the compressed stream");
    return Status::Ok();
  }
  Status Finish() override {
    return ended_ ? Status::Ok() : Status::DataLoss("gzip: the compressed stream is truncated");
  }

 private:
  ByteWriter sink_;
  std::vector<char> out_;
  z_stream z_{};
  bool ended_ = false;
};

class ZstdDecompressor : public Decompressor {
 public:
  explicit ZstdDecompressor(ByteWriter sink) : sink_(std::move(sink)), ctx_(ZSTD_createDCtx()), out_(kChunk) {
    CAIRN_CHECK(ctx_ != nullptr);
  }
  ~ZstdDecompressor() override { ZSTD_freeDCtx(ctx_); }

  Status Write(const char* data, size_t n) override {
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const size_t rc = ZSTD_decompressStream(ctx_, &out, &in);
      if (ZSTD_isError(rc)) return Status::DataLoss(std::string("zstd: the object is not valid zstd data: ") + ZSTD_getErrorName(rc));
      frame_open_ = rc != 0;
      seen_any_ = true;
      CAIRN_RETURN_IF_ERROR(sink_(out_.data(), out.pos));
    }
    return Status::Ok();
  }
  Status Finish() override {
    if (!seen_any_ || frame_open_) return Status::DataLoss("zstd: the compressed stream is truncated");
    return Status::Ok();
  }

 private:
  ByteWriter sink_;
  ZSTD_DCtx* ctx_;
  std::vector<char> out_;
  bool frame_open_ = false;
  bool seen_any_ = false;
};

}  // namespace

std::optional<Compression> ParseCompression(const std::string& name) {
  if (name == "none") return Compression::kNone;
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  return std::nullopt;
}

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
  }
  return "none";
}

const char* CompressionSuffix(Compression c) {
  switch (c) {
    case Compression::kNone: return "";
    case Compression::kGzip: return ".gz";
    case Compression::kZstd: return ".zst";
  }
  return "";
}

ByteReader StringReader(const std::string& bytes) {
  return [&bytes, pos = size_t{0}](char* buf, size_t cap) mutable -> Result<size_t> {
    const size_t n = std::min(cap, bytes.size() - pos);
    std::memcpy(buf, bytes.data() + pos, n);
    pos += n;
    return n;
  };
}

std::unique_ptr<Compressor> NewCompressor(Compression c, ByteReader source) {
  switch (c) {
    case Compression::kGzip: return std::make_unique<GzipCompressor>(std::move(source));
    case Compression::kZstd: return std::make_unique<ZstdCompressor>(std::move(source));
    case Compression::kNone: break;
  }
  return std::make_unique<PlainCompressor>(std::move(source));
}

std::unique_ptr<Decompressor> NewDecompressor(Compression c, ByteWriter sink) {
  switch (c) {
    case Compression::kGzip: return std::make_unique<GzipDecompressor>(std::move(sink));
    case Compression::kZstd: return std::make_unique<ZstdDecompressor>(std::move(sink));
    case Compression::kNone: break;
  }
  return std::make_unique<PlainDecompressor>(std::move(sink));
}

}  // namespace cairn::op::backup
