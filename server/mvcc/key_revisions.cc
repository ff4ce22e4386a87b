#include "server/mvcc/key_revisions.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "server/common/status.h"

namespace cairn::mvcc {

size_t KeyRevisions::RevisionsOffset(size_t key_size) {
  constexpr size_t kAlign = alignof(IndexedRevision);
  return (sizeof(Header) + key_size + kAlign - 1) / kAlign * kAlign;
}

KeyRevisions KeyRevisions::Make(std::string_view key, const IndexedRevision* revs, size_t count) {
  CAIRN_CHECK(key.size() <= std::numeric_limits<uint32_t>::max());
  KeyRevisions k;
  k.block_ = static_cast<Header*>(std::malloc(RevisionsOffset(key.size()) + count * sizeof(IndexedRevision)));
  if (k.block_ == nullptr) throw std::bad_alloc();
  k.block_->count = 0;
  k.block_->key_size = static_cast<uint32_t>(key.size());
  if (!key.empty()) std::memcpy(k.block_ + 1, key.data(), key.size());
  if (count > 0) std::memcpy(k.revisions(), revs, count * sizeof(IndexedRevision));
  k.block_->count = static_cast<uint32_t>(count);
  return k;
}

KeyRevisions& KeyRevisions::operator=(KeyRevisions&& o) noexcept {
  if (this != &o) {
    std::free(block_);
    block_ = o.block_;
    o.block_ = nullptr;
  }
  return *this;
}

KeyRevisions::~KeyRevisions() { std::free(block_); }

std::string_view KeyRevisions::key() const {
  if (block_ == nullptr) return {};
  return {reinterpret_cast<const char*>(block_ + 1), block_->key_size};
}

IndexedRevision* KeyRevisions::revisions() const {
  return reinterpret_cast<IndexedRevision*>(reinterpret_cast<char*>(block_) + RevisionsOffset(block_->key_size));
}

const IndexedRevision* KeyRevisions::begin() const { return block_ == nullptr ? nullptr : revisions(); }

void KeyRevisions::Resize(size_t count) {
  // A key with 2^32 revisions would need 160 GiB of index first.
  CAIRN_CHECK(count <= std::numeric_limits<uint32_t>::max());
  void* grown = std::realloc(block_, RevisionsOffset(block_->key_size) + count * sizeof(IndexedRevision));
  if (grown == nullptr) throw std::bad_alloc();
  block_ = static_cast<Header*>(grown);
}

void KeyRevisions::PushBack(const IndexedRevision& rev) {
  CAIRN_CHECK(block_ != nullptr);
  Resize(size() + 1);
  revisions()[block_->count] = rev;
  ++block_->count;
}

void KeyRevisions::PopBack() {
  CAIRN_CHECK(!empty());
  // The block keeps its size: the next PushBack (the usual follow-up) reuses it.
  --block_->count;
}

void KeyRevisions::EraseFront(size_t n) {
  CAIRN_CHECK(n <= size());
  if (n == 0) return;
  const size_t left = size() - n;
  std::memmove(revisions(), revisions() + n, left * sizeof(IndexedRevision));
  block_->count = static_cast<uint32_t>(left);
  Resize(left);
}

}  // namespace cairn::mvcc
