// KeySpan: etcd's (key, range_end) forms as one half-open byte interval.
//   range_end empty -> the single key, i.e. [key, key + "\0")
//   range_end "\0"  -> every key >= key (unbounded)
//   otherwise       -> [key, range_end); empty when range_end <= key
// Value type; thread-safe. `lo` views the caller's key: REQUIRES it outlives the span.
#pragma once

#include <string>
#include <string_view>

namespace cairn::mvcc {

struct KeySpan {
  std::string_view lo;
  std::string hi;  // exclusive upper bound; meaningless when !bounded
  bool bounded = true;

  static KeySpan Of(std::string_view key, std::string_view range_end) {
    KeySpan s;
    s.lo = key;
    if (range_end.empty()) {
      s.hi.reserve(key.size() + 1);
      s.hi.append(key).push_back('\0');
    } else if (range_end.size() == 1 && range_end[0] == '\0') {
      s.bounded = false;
    } else {
      s.hi = std::string(range_end);
    }
    return s;
  }
};

}  // namespace cairn::mvcc
