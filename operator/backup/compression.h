// Streaming compression for backup objects: none, gzip (zlib, RFC 1952, so `gunzip`
// reads it) or zstd (libzstd's frame format, so `zstd -d` reads it). Both directions
// work on bounded buffers, never on the whole object: a Compressor pulls from a source
// reader and is itself a reader; a Decompressor is a writer that pushes what it
// decodes to a sink writer.
//
// Errors: a source or sink error ends the stream with that error. Decompressing data
// that is not in the format, is truncated, or has trailing garbage fails with
// kDataLoss naming the codec, so a damaged backup is refused, never half-restored.
// Thread-safety: one object per stream, used by one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/common/status.h"

namespace cairn::op::backup {

enum class Compression { kNone, kGzip, kZstd };

// "none", "gzip", "zstd" (the CRD's enum) <-> Compression.
std::optional<Compression> ParseCompression(const std::string& name);
const char* CompressionName(Compression c);
// The object-name suffix that tells tools the format: "", ".gz", ".zst".
const char* CompressionSuffix(Compression c);

// Fills buf with up to cap bytes; 0 only at the end of the stream.
using ByteReader = std::function<Result<size_t>(char* buf, size_t cap)>;
using ByteWriter = std::function<Status(const char* data, size_t n)>;

// A reader of `bytes` from its start. REQUIRES: `bytes` outlives the reader.
ByteReader StringReader(const std::string& bytes);

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Up to cap compressed bytes; 0 once the source has ended and everything is out.
  virtual Result<size_t> Read(char* buf, size_t cap) = 0;
  virtual uint64_t bytes_in() const = 0;  // uncompressed bytes taken from the source so far
};

class Decompressor {
 public:
  virtual ~Decompressor() = default;
  virtual Status Write(const char* data, size_t n) = 0;
  // REQUIRES: every byte written. Fails if the stream ended early.
  virtual Status Finish() = 0;
};

std::unique_ptr<Compressor> NewCompressor(Compression c, ByteReader source);
std::unique_ptr<Decompressor> NewDecompressor(Compression c, ByteWriter sink);

}  // namespace cairn::op::backup
