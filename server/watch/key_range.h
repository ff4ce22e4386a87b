// KeyRange: which keys a watcher covers, in etcd's (key, range_end) forms:
// range_end empty = exactly key; "\0" = every key >= key; otherwise [key, range_end).
// Value type; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace cairn::watch {

struct KeyRange {
  std::string key;
  std::string range_end;

  bool single() const { return range_end.empty(); }
  bool Contains(std::string_view k) const {
    if (range_end.empty()) return k == key;
    if (k < std::string_view(key)) return false;
    if (range_end.size() == 1 && range_end[0] == '\0') return true;
    return k < std::string_view(range_end);
  }
  bool operator<(const KeyRange& o) const { return key != o.key ? key < o.key : range_end < o.range_end; }
};

}  // namespace cairn::watch
