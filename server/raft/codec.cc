#include "server/raft/codec.h"

#include <cstdint>

namespace cairn::raft {

namespace {

enum class Kind : uint8_t {
  kMessage = 1,
  kConfChange = 2,
  kHardState = 3,
  kConfState = 4,
  kSnapshotMetadata = 5,
  kEntry = 6,
};

class Writer {
 public:
  explicit Writer(Kind k) {
    out_.push_back(static_cast<char>(kCodecVersion));
    out_.push_back(static_cast<char>(k));
  }
  void U64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Bytes(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  void Ids(const std::vector<NodeId>& ids) {
    U64(ids.size());
    for (NodeId id : ids) U64(id);
  }
  void Put(const Entry& e) {
    U64(e.term);
    U64(e.index);
    U64(static_cast<uint8_t>(e.type));
    Bytes(e.data);
  }
  void Put(const ConfState& cs) {
    Ids(cs.voters);
    Ids(cs.learners);
  }
  void Put(const SnapshotMetadata& md) {
    U64(md.index);
    U64(md.term);
    Put(md.conf_state);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; the first failure sticks and every later read returns zero values,
// so decoders check ok() once at the end.
class Reader {
 public:
  Reader(std::string_view in, Kind k) : in_(in) {
    if (in_.size() < 2) {
      Fail("truncated header");
    } else if (static_cast<uint8_t>(in_[0]) != kCodecVersion) {
      Fail("unsupported version");
    } else if (static_cast<uint8_t>(in_[1]) != static_cast<uint8_t>(k)) {
      Fail("unexpected kind");
    }
    pos_ = in_.size() < 2 ? in_.size() : 2;
  }

  uint64_t U64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok() || pos_ >= in_.size()) {
        Fail("truncated varint");
        return 0;
      }
      const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        Fail("varint overflow");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("varint too long");
    return 0;
  }
  uint64_t Bounded(uint64_t max, const char* what) {
    const uint64_t v = U64();
    if (v > max) Fail(what);
    return ok() ? v : 0;
  }
  bool Bool() { return Bounded(1, "bad bool") != 0; }
  std::string Bytes() {
    const uint64_t n = U64();
    if (!ok()) return {};
    if (n > in_.size() - pos_) {
      Fail("truncated bytes");
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A list length; every element takes at least one byte, which bounds allocations by the
  // input size.
  size_t Count() {
    const uint64_t n = U64();
    if (ok() && n > in_.size() - pos_) Fail("bad list length");
    return ok() ? static_cast<size_t>(n) : 0;
  }
  std::vector<NodeId> Ids() {
    std::vector<NodeId> ids(Count());
    for (NodeId& id : ids) id = U64();
    return ids;
  }
  Entry GetEntry() {
    Entry e;
    e.term = U64();
    e.index = U64();
    e.type = static_cast<EntryType>(Bounded(1, "bad entry type"));
    e.data = Bytes();
    return e;
  }
  ConfState GetConfState() {
    ConfState cs;
    cs.voters = Ids();
    cs.learners = Ids();
    return cs;
  }
  SnapshotMetadata GetSnapshotMetadata() {
    SnapshotMetadata md;
    md.index = U64();
    md.term = U64();
    md.conf_state = GetConfState();
    return md;
  }

  bool ok() const { return error_ == nullptr; }
  // The final status: also rejects trailing garbage.
  Status Finish() {
    if (ok() && pos_ != in_.size()) Fail("trailing bytes");
    return ok() ? Status::Ok() : Status::Corruption(std::string("raft codec: ") + error_);
  }

 private:
  void Fail(const char* what) {
    if (error_ == nullptr) error_ = what;
  }

  std::string_view in_;
  size_t pos_ = 0;
  const char* error_ = nullptr;
};

template <typename T>
Result<T> Done(Reader& r, T v) {
  Status st = r.Finish();
  if (!st.ok()) return st;
  return v;
}

}  // namespace

std::string EncodeMessage(const Message& m) {
  Writer w(Kind::kMessage);
  w.U64(static_cast<uint8_t>(m.type));
  w.U64(m.to);
  w.U64(m.from);
  w.U64(m.term);
  w.U64(m.log_term);
  w.U64(m.index);
  w.U64(m.entries.size());
  for (const Entry& e : m.entries) w.Put(e);
  w.U64(m.commit);
  w.Put(m.snapshot.metadata);
  w.Bytes(m.snapshot.data);
  w.U64(m.reject ? 1 : 0);
  w.U64(m.reject_hint);
  w.Bytes(m.context);
  return w.Take();
}

Result<Message> DecodeMessage(std::string_view bytes) {
  Reader r(bytes, Kind::kMessage);
  Message m;
  m.type = static_cast<MessageType>(r.Bounded(kMaxMessageType, "bad message type"));
  m.to = r.U64();
  m.from = r.U64();
  m.term = r.U64();
  m.log_term = r.U64();
  m.index = r.U64();
  m.entries.resize(r.Count());
  for (Entry& e : m.entries) e = r.GetEntry();
  m.commit = r.U64();
  m.snapshot.metadata = r.GetSnapshotMetadata();
  m.snapshot.data = r.Bytes();
  m.reject = r.Bool();
  m.reject_hint = r.U64();
  m.context = r.Bytes();
  return Done(r, std::move(m));
}

std::string EncodeConfChange(const ConfChange& cc) {
  Writer w(Kind::kConfChange);
  w.U64(static_cast<uint8_t>(cc.type));
  w.U64(cc.node_id);
  w.Bytes(cc.context);
  return w.Take();
}

Result<ConfChange> DecodeConfChange(std::string_view bytes) {
  Reader r(bytes, Kind::kConfChange);
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(r.Bounded(2, "bad conf change type"));
  cc.node_id = r.U64();
  cc.context = r.Bytes();
  return Done(r, std::move(cc));
}

std::string EncodeHardState(const HardState& hs) {
  Writer w(Kind::kHardState);
  w.U64(hs.term);
  w.U64(hs.vote);
  w.U64(hs.commit);
  return w.Take();
}

Result<HardState> DecodeHardState(std::string_view bytes) {
  Reader r(bytes, Kind::kHardState);
  HardState hs;
  hs.term = r.U64();
  hs.vote = r.U64();
  hs.commit = r.U64();
  return Done(r, hs);
}

std::string EncodeConfState(const ConfState& cs) {
  Writer w(Kind::kConfState);
  w.Put(cs);
  return w.Take();
}

Result<ConfState> DecodeConfState(std::string_view bytes) {
  Reader r(bytes, Kind::kConfState);
  ConfState cs = r.GetConfState();
  return Done(r, std::move(cs));
}

std::string EncodeSnapshotMetadata(const SnapshotMetadata& md) {
  Writer w(Kind::kSnapshotMetadata);
  w.Put(md);
  return w.Take();
}

Result<SnapshotMetadata> DecodeSnapshotMetadata(std::string_view bytes) {
  Reader r(bytes, Kind::kSnapshotMetadata);
  SnapshotMetadata md = r.GetSnapshotMetadata();
  return Done(r, std::move(md));
}

std::string EncodeEntry(const Entry& e) {
  Writer w(Kind::kEntry);
  w.Put(e);
  return w.Take();
}

Result<Entry> DecodeEntry(std::string_view bytes) {
  Reader r(bytes, Kind::kEntry);
  Entry e = r.GetEntry();
  return Done(r, std::move(e));
}

}  // namespace cairn::raft
