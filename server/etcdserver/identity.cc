#include "server/etcdserver/identity.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace cairn::etcdserver {
namespace {

uint64_t FirstEightBytes(const unsigned char* digest) {
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | digest[i];
  return id;
}

void PutBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t GetBigEndian(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

constexpr char kIdentityMagic[] = "cairn-member-v1";
constexpr size_t kIdentityMagicLen = sizeof(kIdentityMagic) - 1;

}  // namespace

uint64_t ComputeMemberId(std::vector<std::string> peer_urls, const std::string& cluster_token) {
  std::sort(peer_urls.begin(), peer_urls.end());
  std::string buf;
  for (const auto& u : peer_urls) buf += u;
  buf += cluster_token;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), digest);
  return FirstEightBytes(digest);
}

uint64_t ComputeClusterId(std::vector<uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  std::string buf;
  for (uint64_t id : member_ids) PutBigEndian(buf, id);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), digest);
  return FirstEightBytes(digest);
}

std::string MemberIdentity::Encode() const {
  std::string out(kIdentityMagic, kIdentityMagicLen);
  PutBigEndian(out, member_id);
  PutBigEndian(out, cluster_id);
  return out;
}

bool MemberIdentity::Decode(const std::string& bytes) {
  if (bytes.size() != kIdentityMagicLen + 16 || bytes.compare(0, kIdentityMagicLen, kIdentityMagic) != 0) {
    return false;
  }
  member_id = GetBigEndian(bytes, kIdentityMagicLen);
  cluster_id = GetBigEndian(bytes, kIdentityMagicLen + 8);
  return true;
}

std::string HexId(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace cairn::etcdserver
