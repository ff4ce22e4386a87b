#include "operator/backup/compression.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace cairn::op::backup {
namespace {

// Compressible but not trivial: random words from a small alphabet, like keys and values.
std::string SampleData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 12);
  return s;
}

ByteReader ReaderOf(const std::string& data, size_t max_chunk) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos, max_chunk](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::min({cap, max_chunk, data.size() - *pos});
    std::copy_n(data.data() + *pos, n, buf);
    *pos += n;
    return n;
  };
}

Result<std::string> Compress(Compression c, const std::string& data, size_t source_chunk, size_t read_cap) {
  auto compressor = NewCompressor(c, ReaderOf(data, source_chunk));
  std::string out, buf(read_cap, '\0');
  for (;;) {
    auto n = compressor->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  if (compressor->bytes_in() != data.size()) return Status::Internal("bytes_in does not count the source");
  return out;
}

Result<std::string> Decompress(Compression c, const std::string& data, size_t write_chunk) {
  std::string out;
  auto d = NewDecompressor(c, [&](const char* p, size_t n) {
    out.append(p, n);
    return Status::Ok();
  });
  for (size_t i = 0; i < data.size(); i += write_chunk) {
    CAIRN_RETURN_IF_ERROR(d->Write(data.data() + i, std::min(write_chunk, data.size() - i)));
  }
  CAIRN_RETURN_IF_ERROR(d->Finish());
  return out;
}

class CompressionTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CompressionTest, RoundTripsAnySizeThroughAnyBufferSizes) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65537}, size_t{3} << 20}) {
    const std::string data = SampleData(size, static_cast<uint32_t>(size));
    for (auto [source_chunk, read_cap, write_chunk] :
         {std::tuple<size_t, size_t, size_t>{7, 5, 3}, {1 << 20, 1 << 16, 1 << 20}, {4096, 1, 100000}}) {
      if (size > 70000 && (read_cap == 1 || write_chunk == 3)) continue;  // byte-at-a-time on 3 MiB is slow
      auto packed = Compress(GetParam(), data, source_chunk, read_cap);
      ASSERT_TRUE(packed.ok()) << packed.status().ToString();
      if (GetParam() != Compression::kNone && size > 1000) {
        EXPECT_LT(packed->size(), data.size() * 3 / 4);
      }
      auto unpacked = Decompress(GetParam(), *packed, write_chunk);
      ASSERT_TRUE(unpacked.ok()) << unpacked.status().ToString();
      EXPECT_TRUE(*unpacked == data) << "size " << size << " chunks " << source_chunk << "/" << read_cap;
    }
  }
}

TEST_P(CompressionTest, TruncatedOrDamagedStreamsAreDataLoss) {
  if (GetParam() == Compression::kNone) GTEST_SKIP() << "no framing to damage";
  const std::string data = SampleData(200000, 3);
  auto packed = Compress(GetParam(), data, 4096, 4096);
  ASSERT_TRUE(packed.ok());
  auto truncated = Decompress(GetParam(), packed->substr(0, packed->size() - 9), 1000);
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss) << truncated.status().ToString();
  std::string damaged = *packed;
  damaged[damaged.size() / 2] ^= 0x5a;
  damaged[damaged.size() / 2 + 1] ^= 0x33;
  auto bad = Decompress(GetParam(), damaged, 1000);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss) << bad.status().ToString();
  auto not_compressed = Decompress(GetParam(), data.substr(0, 5000), 1000);
  EXPECT_EQ(not_compressed.status().code(), StatusCode::kDataLoss);
}

TEST_P(CompressionTest, SourceAndSinkErrorsEndTheStream) {
  auto compressor = NewCompressor(GetParam(), [](char*, size_t) -> Result<size_t> {
    return Status::Unavailable("member went away");
  });
  char buf[64];
  EXPECT_EQ(compressor->Read(buf, sizeof buf).status().code(), StatusCode::kUnavailable);
  const std::string data = SampleData(100000, 9);
  auto packed = Compress(GetParam(), data, 4096, 4096);
  ASSERT_TRUE(packed.ok());
  auto d = NewDecompressor(GetParam(), [](const char*, size_t) { return Status::ResourceExhausted("disk full"); });
  EXPECT_EQ(d->Write(packed->data(), packed->size()).code(), StatusCode::kResourceExhausted);
}

// The formats are the standard ones: the system's gzip and zstd tools read them.
TEST_P(CompressionTest, StandardToolsReadTheOutput) {
  const char* tool = GetParam() == Compression::kGzip ? "gzip" : GetParam() == Compression::kZstd ? "zstd" : nullptr;
  if (tool == nullptr) GTEST_SKIP();
  const std::string data = SampleData(300000, 5);
  auto packed = Compress(GetParam(), data, 8192, 8192);
  ASSERT_TRUE(packed.ok());
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-compression-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto in = dir / "object";
  std::ofstream(in, std::ios::binary) << *packed;
  const std::string cmd = std::string(tool) + " -dc < " + in.string() + " > " + (dir / "plain").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream plain(dir / "plain", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(plain)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == data);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kZstd),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST(CompressionNamesTest, ParseMatchesTheCrdEnum) {
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    EXPECT_EQ(ParseCompression(CompressionName(c)), c);
  }
  EXPECT_EQ(ParseCompression("lz4"), std::nullopt);
  EXPECT_STREQ(CompressionSuffix(Compression::kZstd), ".zst");
}

}  // namespace
}  // namespace cairn::op::backup
