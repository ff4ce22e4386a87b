// KeyRevisions: one key of the key index (key_index.h) and its revisions, oldest first,
// in a single heap block sized to fit: [count, key size][key bytes, padded][revisions].
//
// Why not a std::string and a std::vector in a map node: for the index's usual key (a
// short key with one or two revisions) those take three allocations, 56 bytes of headers
// and the vector's spare capacity; the block is one allocation with 8 bytes of header,
// which makes the index about a third smaller. A revision added or dropped resizes the
// block (realloc), which costs less than the SQLite write that comes with it.
//
// Move-only; moving leaves the source empty (no key, no revisions). The key never
// changes after Make, so an ordered container may hold KeyRevisions by key and let its
// revisions change in place (KeyIndex does). Thread-safety: none; KeyIndex locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/mvcc/indexed_revision.h"

namespace cairn::mvcc {

class KeyRevisions {
 public:
  // A key with the given revisions (oldest first).
  static KeyRevisions Make(std::string_view key, const IndexedRevision* revs, size_t count);

  KeyRevisions() = default;
  KeyRevisions(KeyRevisions&& o) noexcept : block_(o.block_) { o.block_ = nullptr; }
  KeyRevisions& operator=(KeyRevisions&& o) noexcept;
  KeyRevisions(const KeyRevisions&) = delete;
  KeyRevisions& operator=(const KeyRevisions&) = delete;
  ~KeyRevisions();

  std::string_view key() const;
  size_t size() const { return block_ == nullptr ? 0 : block_->count; }
  bool empty() const { return size() == 0; }
  const IndexedRevision* begin() const;
  const IndexedRevision* end() const { return begin() + size(); }
  const IndexedRevision& front() const { return *begin(); }
  const IndexedRevision& back() const { return *(end() - 1); }

  // REQUIRES: a key was made (Make).
  void PushBack(const IndexedRevision& rev);
  // REQUIRES: !empty().
  void PopBack();
  // Drops the oldest n revisions. REQUIRES: n <= size().
  void EraseFront(size_t n);

 private:
  struct Header {
    uint32_t count;
    uint32_t key_size;
  };
  static size_t RevisionsOffset(size_t key_size);
  IndexedRevision* revisions() const;
  void Resize(size_t count);

  Header* block_ = nullptr;
};

}  // namespace cairn::mvcc
