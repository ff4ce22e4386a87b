#include "server/common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::crc32c {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Value(""), 0u);
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value("a"), 0xC1D04330u);
  // RFC 3720 B.4: 32 bytes of zeros, of 0xff, and ascending.
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string asc;
  for (int i = 0; i < 32; ++i) asc.push_back(static_cast<char>(i));
  EXPECT_EQ(Value(asc), 0x46DD794Eu);
}

TEST(Crc32c, ExtendComposesAtEverySplitAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  for (size_t start = 0; start < 9; ++start) {
    std::string_view s = std::string_view(data).substr(start);
    uint32_t whole = Value(s);
    for (size_t split = 0; split <= s.size(); ++split) {
      ASSERT_EQ(Extend(Value(s.substr(0, split)), s.data() + split, s.size() - split), whole)
          << "start=" << start << " split=" << split;
    }
  }
}

}  // namespace
}  // namespace cairn::crc32c
