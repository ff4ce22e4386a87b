// KeyIntervals: a union of half-open key intervals, merged, answering "is every key of
// this range inside the union?" with one binary search. It is one user's read (or
// write) permission in the auth store's permission cache.
//
// Keys use etcd's forms: a permission or a request with an empty range_end is the single
// key `key`; range_end "\0" means every key >= key; otherwise [key, range_end). A set
// covers a range when the range lies inside the union of the intervals, even across
// several adjacent grants (etcd's interval tree Contains).
// Thread-safety: a value type; const methods may run concurrently.
#pragma once

#include <string>
#include <vector>

namespace cairn::auth {

class KeyIntervals {
 public:
  // Adds a permission's keys in etcd's forms. Call Seal() after the last Add.
  void Add(const std::string& key, const std::string& range_end);
  // Sorts and merges the intervals. REQUIRES: before any Covers().
  void Seal();

  // Whether every key of the request range (etcd's forms) is in the set. An empty
  // range ([a, b) with b <= a) is covered only when `key` itself is: etcd checks such
  // ranges as intervals starting at `key`.
  bool Covers(const std::string& key, const std::string& range_end) const;

 private:
  struct Interval {
    std::string begin;
    std::string end;  // exclusive; unbounded_end means +infinity
    bool unbounded_end = false;
  };
  static Interval FromEtcd(const std::string& key, const std::string& range_end);

  std::vector<Interval> intervals_;  // after Seal(): sorted by begin, disjoint, not adjacent
};

}  // namespace cairn::auth
