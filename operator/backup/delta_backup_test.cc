// Continuous backup against real Cairn members: a full backup, the DeltaShipper shipping
// what follows (through a member killed mid-run, an operator restart and a compaction),
// and point-in-time restores with `cairn snapshot restore --replay` into new data dirs:
// every key, value, create/mod revision, version and lease checked against the source's
// own answer at the target revision.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/backup/delta_shipper.h"
#include "operator/backup/full_backup.h"
#include "operator/backup/point_in_time.h"
#include "operator/s3/tests/s3rver_process.h"
#include "operator/tests/etcd_process.h"
#include "server/common/test_dir.h"

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;
using op::testing::EtcdMember;
using op::testing::EtcdProcess;
namespace pb = etcdserverpb;

constexpr const char* kPrefix = "team/default/src/";

struct KeyState {
  std::string value;
  int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
  bool operator==(const KeyState&) const = default;
};

std::ostream& operator<<(std::ostream& os, const KeyState& k) {
  return os << "{" << k.value.size() << " bytes, create " << k.create_revision << ", mod " << k.mod_revision
            << ", version " << k.version << ", lease " << k.lease << "}";
}

class Client {
 public:
  explicit Client(const EtcdMember& m)
      : channel_(grpc::CreateChannel("127.0.0.1:" + std::to_string(m.client_port), grpc::InsecureChannelCredentials())),
        kv_(pb::KV::NewStub(channel_)),
        lease_(pb::Lease::NewStub(channel_)) {}

  int64_t Put(const std::string& key, const std::string& value, int64_t lease = 0) {
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_lease(lease);
    pb::PutResponse resp;
    // A put the killed leader had taken times out; it is tried again (a second copy of a
    // put is just one more revision, which the tests follow like any other).
    grpc::Status st;
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto ctx = Ctx();
      st = kv_->Put(ctx.get(), req, &resp);
      if (st.ok()) break;
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.header().revision();
  }
  int64_t Delete(const std::string& key) {
    pb::DeleteRangeRequest req;
    req.set_key(key);
    pb::DeleteRangeResponse resp;
    auto ctx = Ctx();
    EXPECT_TRUE(kv_->DeleteRange(ctx.get(), req, &resp).ok());
    return resp.header().revision();
  }
  // One revision with several events: two puts and a delete.
  int64_t Txn(const std::string& a, const std::string& b, const std::string& gone) {
    pb::TxnRequest req;
    for (const auto& k : {a, b}) {
      auto* put = req.add_success()->mutable_request_put();
      put->set_key(k);
      put->set_value("txn-" + k);
    }
    req.add_success()->mutable_request_delete_range()->set_key(gone);
    pb::TxnResponse resp;
    auto ctx = Ctx();
    const grpc::Status st = kv_->Txn(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.header().revision();
  }
  int64_t Grant() {
    pb::LeaseGrantRequest req;
    req.set_ttl(3600);
    pb::LeaseGrantResponse resp;
    auto ctx = Ctx();
    EXPECT_TRUE(lease_->LeaseGrant(ctx.get(), req, &resp).ok());
    return resp.id();
  }
  void Compact(int64_t rev) {
    pb::CompactionRequest req;
    req.set_revision(rev);
    req.set_physical(true);
    pb::CompactionResponse resp;
    auto ctx = Ctx();
    const grpc::Status st = kv_->Compact(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  // Every key as of `revision` (0: now), and the revision the answer is at.
  std::map<std::string, KeyState> ReadAll(int64_t revision, int64_t* header_revision = nullptr) {
    pb::RangeRequest req;
    req.set_key(std::string(1, '\0'));
    req.set_range_end(std::string(1, '\0'));
    req.set_revision(revision);
    pb::RangeResponse resp;
    auto ctx = Ctx();
    const grpc::Status st = kv_->Range(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (header_revision != nullptr) *header_revision = resp.header().revision();
    std::map<std::string, KeyState> out;
    for (const auto& k : resp.kvs()) {
      out[k.key()] = {k.value(), k.create_revision(), k.mod_revision(), k.version(), k.lease()};
    }
    return out;
  }

 private:
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + 10s);
    ctx->set_wait_for_ready(true);
    return ctx;
  }
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Lease::Stub> lease_;
};

// A DeltaShipper on its own thread until Stop().
class RunningShipper {
 public:
  RunningShipper(MembershipClient& members, ObjectStore& store, DeltaShipperOptions options)
      : shipper_(members, store, std::move(options)), thread_([this] { result_ = shipper_.Run([this] { return stop_.load(); }); }) {}
  ~RunningShipper() { (void)Stop(); }
  Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  // Waits until everything up to `revision` is in a segment.
  bool WaitShipped(int64_t revision, std::chrono::seconds limit = 30s) {
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
      if (shipper_.stats().shipped_revision >= revision) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  DeltaShipper::Stats stats() const { return shipper_.stats(); }

 private:
  DeltaShipper shipper_;
  std::atomic<bool> stop_{false};
  Status result_ = Status::Ok();
  std::thread thread_;
};

class DeltaBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("CAIRN_MEMBERSHIP_SERVER") == nullptr) GTEST_SKIP() << "needs CAIRN_MEMBERSHIP_SERVER=<cairn>";
    const int base = op::testing::PortBase();
    for (int i = 0; i < 3; ++i) members_.push_back({"m" + std::to_string(i), base + 2 * i, base + 2 * i + 1});
    restored_ = {"restored", base + 6, base + 7};
    std::filesystem::create_directories(dir_.Join("pvc"));
    store_ = NewDirectoryStore(dir_.Join("pvc"));
  }

  // A one-member source cluster (m0), or all three.
  void StartSource(int n) {
    for (int i = 0; i < n; ++i) initial_ += (i ? "," : "") + members_[i].name + "=" + members_[i].PeerUrl();
    for (int i = 0; i < n; ++i) {
      procs_.push_back(std::make_unique<EtcdProcess>(members_[i], initial_, "new", dir_.Join(members_[i].name)));
    }
    std::vector<std::string> urls;
    for (int i = 0; i < n; ++i) urls.push_back(members_[i].ClientUrl());
    client_ = std::make_unique<MembershipClient>(urls, 5s);
    endpoints_ = urls;
  }

  BackupManifest FullBackup() {
    FullBackupRequest r;
    r.cluster = "default/src";
    r.version = "0.1.0";
    r.endpoints = endpoints_;
    r.prefix = kPrefix;
    auto m = RunFullBackup(*client_, *store_, r);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : BackupManifest{};
  }

  DeltaShipperOptions Options() {
    DeltaShipperOptions o;
    o.prefix = kPrefix;
    o.endpoints = endpoints_;
    o.period = 300ms;
    o.reconnect_backoff = 100ms;
    return o;
  }

  // The segments in the store, checked to chain from `from` with no gap or overlap.
  std::vector<DeltaSegmentKey> Chain(int64_t from) {
    auto keys = store_->List(kPrefix);
    EXPECT_TRUE(keys.ok());
    std::vector<DeltaSegmentKey> out;
    for (const auto& k : *keys) {
      if (auto s = ParseDeltaSegmentName(kPrefix, k)) out.push_back(*s);
    }
    int64_t next = from;
    for (const auto& s : out) {
      EXPECT_EQ(s.first, next) << "gap or overlap in the segment chain";
      next = s.last + 1;
    }
    return out;
  }

  // Plans, fetches and replays to `target`, restores a new member from it with `cairn
  // snapshot restore --replay`, and reads everything back (and its revision).
  Status Restore(const RestoreTarget& target, std::map<std::string, KeyState>* got, int64_t* revision) {
    auto plan = PlanPointInTime(*store_, kPrefix, target);
    if (!plan.ok()) return plan.status();
    const std::string db = dir_.Join("restore.db"), deltas = dir_.Join("restore.deltas");
    std::filesystem::remove(db);
    std::filesystem::remove(deltas);
    {
      std::ofstream out(db, std::ios::binary);
      auto fetched = FetchBackup(*store_, plan->full_manifest, [&](const char* p, size_t n) {
        out.write(p, static_cast<std::streamsize>(n));
        return Status::Ok();
      });
      if (!fetched.ok()) return fetched.status();
      std::ofstream dout(deltas, std::ios::binary);
      auto written = WriteReplay(*store_, *plan, target, [&](const char* p, size_t n) {
        dout.write(p, static_cast<std::streamsize>(n));
        return Status::Ok();
      });
      if (!written.ok()) return written.status();
    }
    std::filesystem::remove_all(dir_.Join("restored"));
    std::filesystem::create_directories(dir_.Join("restored"));
    const std::string cmd = RestoreCommand(db, deltas);
    if (std::system(cmd.c_str()) != 0) return Status::Internal("restore failed: " + cmd);
    EtcdProcess member(restored_, "restored=" + restored_.PeerUrl(), "new", dir_.Join("restored"));
    *got = Client(restored_).ReadAll(0, revision);
    return Status::Ok();
  }

  std::string RestoreCommand(const std::string& db, const std::string& deltas) {
    return std::string(std::getenv("CAIRN_MEMBERSHIP_SERVER")) + " snapshot restore " + db + " --replay=" + deltas +
           " --name=restored --data-dir=" + dir_.Join("restored") + "/data --initial-cluster=restored=" +
           restored_.PeerUrl() + " --initial-advertise-peer-urls=" + restored_.PeerUrl() +
           " --initial-cluster-token=restored > " + dir_.Join("restore.log") + " 2>&1";
  }

  TempDir dir_;
  std::vector<EtcdMember> members_;
  std::string initial_;  // --initial-cluster of the source
  EtcdMember restored_;
  std::vector<std::unique_ptr<EtcdProcess>> procs_;
  std::unique_ptr<MembershipClient> client_;
  std::vector<std::string> endpoints_;
  std::unique_ptr<ObjectStore> store_;
};

// Keys whose lease was granted after the full backup come back without one (replay.h).
std::map<std::string, KeyState> WithoutLease(std::map<std::string, KeyState> m, int64_t lease) {
  for (auto& [k, v] : m) {
    if (v.lease == lease) v.lease = 0;
  }
  return m;
}

TEST_F(DeltaBackupTest, RestoresTheLatestAndAnEarlierRevisionAndTimeExactly) {
  if (!s3::testing::S3rverInstalled()) GTEST_SKIP() << "s3rver is not installed: run tools/install-s3rver.sh";
  s3::testing::S3rverProcess server(dir_.path(), "backups");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  s3::ClientConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  config.bucket = "backups";
  config.credentials = {"S3RVER", "S3RVER", ""};
  auto s3 = s3::Client::Create(config);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  store_ = NewS3Store(std::move(*s3), "backups");
  StartSource(1);
  Client src(members_[0]);
  const int64_t old_lease = src.Grant();
  for (int i = 0; i < 150; ++i) src.Put("key/" + std::to_string(i % 60), "v1-" + std::to_string(i), i % 10 == 0 ? old_lease : 0);
  const BackupManifest full = FullBackup();
  ASSERT_GT(full.revision, 0);
  RunningShipper shipper(*client_, *store_, Options());

  // After the backup: rewrites, deletes, multi-event transactions, both leases.
  const int64_t new_lease = src.Grant();
  for (int i = 0; i < 120; ++i) src.Put("key/" + std::to_string(i % 80), "v2-" + std::to_string(i), i % 7 == 0 ? new_lease : 0);
  src.Delete("key/3");
  src.Txn("txn/a", "key/4", "key/5");
  src.Put("leased/old", "a lease granted before the full backup", old_lease);
  src.Put("leased/new", "a lease granted after it", new_lease);
  const int64_t mid = src.Put("key/mid", "the middle");
  ASSERT_TRUE(shipper.WaitShipped(mid));
  std::this_thread::sleep_for(50ms);
  const TimePoint mid_time = Clock::now();
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 100; ++i) src.Put("key/" + std::to_string(i % 40), "v3-" + std::to_string(i));
  src.Delete("key/mid");
  const int64_t last = src.Txn("txn/b", "txn/a", "key/7");
  ASSERT_TRUE(shipper.WaitShipped(last));
  ASSERT_TRUE(shipper.Stop().ok());
  EXPECT_GE(Chain(full.revision + 1).size(), 2u) << "several periods, several segments";

  for (auto [target, name] : {std::pair{RestoreTarget{last, {}}, "latest revision"},
                              std::pair{RestoreTarget{mid, {}}, "earlier revision"},
                              std::pair{RestoreTarget{0, mid_time}, "earlier time"}}) {
    SCOPED_TRACE(name);
    const int64_t want_rev = target.revision > 0 ? target.revision : mid;
    const auto want = WithoutLease(src.ReadAll(want_rev), new_lease);
    ASSERT_GT(want.size(), 70u);
    std::map<std::string, KeyState> got;
    int64_t got_rev = 0;
    Status st = Restore(target, &got, &got_rev);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(got_rev, want_rev);
    EXPECT_EQ(got.size(), want.size());
    for (const auto& [k, v] : want) EXPECT_EQ(got[k], v) << k;
    EXPECT_EQ(got["leased/old"].lease, old_lease) << "a lease the snapshot has stays attached";
    EXPECT_EQ(got["leased/new"].value, "a lease granted after it");
    EXPECT_EQ(got["leased/new"].lease, 0) << "a lease granted after the snapshot is not restored";
  }
}

// The watched member is killed mid-run: the shipper moves to another member and then back
// to the restarted one; an operator restart (a new shipper) resumes at the newest segment.
// The chain never has a gap or a repeat, and restores exactly.
TEST_F(DeltaBackupTest, MemberKillsAndShipperRestartsLeaveNoGapOrRepeat) {
  StartSource(3);
  Client via1(members_[1]);
  for (int i = 0; i < 50; ++i) via1.Put("k/" + std::to_string(i), "a");
  const BackupManifest full = FullBackup();
  int64_t last = 0;
  {
    RunningShipper shipper(*client_, *store_, Options());
    for (int i = 0; i < 60; ++i) via1.Put("k/" + std::to_string(i % 30), "b" + std::to_string(i));
    procs_[0]->Kill();  // the member the shipper watches
    for (int i = 0; i < 60; ++i) last = via1.Put("k/" + std::to_string(i % 30), "c" + std::to_string(i));
    ASSERT_TRUE(shipper.WaitShipped(last));
    EXPECT_GE(shipper.stats().reconnects, 1);
    ASSERT_TRUE(shipper.Stop().ok());
  }
  procs_[0] = std::make_unique<EtcdProcess>(members_[0], initial_, "new", dir_.Join(members_[0].name));
  auto resume = ResumeRevision(*store_, kPrefix);
  ASSERT_TRUE(resume.ok());
  EXPECT_EQ(*resume, last + 1);
  for (int i = 0; i < 40; ++i) last = via1.Put("k/" + std::to_string(i), "d" + std::to_string(i));
  {
    RunningShipper shipper(*client_, *store_, Options());  // an operator restart: starts from the store
    ASSERT_TRUE(shipper.WaitShipped(last));
    ASSERT_TRUE(shipper.Stop().ok());
  }
  Chain(full.revision + 1);
  const auto want = via1.ReadAll(last);
  std::map<std::string, KeyState> got;
  int64_t got_rev = 0;
  Status st = Restore({last, {}}, &got, &got_rev);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(got_rev, last);
  EXPECT_EQ(got, want);
}

// History compacted past where the deltas must start: the shipper reports it instead of
// shipping a gap; after a new full backup it starts right after that one.
TEST_F(DeltaBackupTest, ACompactedStartIsReportedAndANewFullBackupClosesTheGap) {
  StartSource(1);
  Client src(members_[0]);
  for (int i = 0; i < 20; ++i) src.Put("k/" + std::to_string(i), "a");
  FullBackup();
  int64_t rev = 0;
  for (int i = 0; i < 20; ++i) rev = src.Put("k/" + std::to_string(i), "b");
  src.Compact(rev);
  DeltaShipper shipper(*client_, *store_, Options());
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  Status st = shipper.Run([&] { return std::chrono::steady_clock::now() > give_up; });
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  EXPECT_NE(st.message().find("new full backup"), std::string::npos) << st.ToString();
  const BackupManifest second = FullBackup();
  auto resume = ResumeRevision(*store_, kPrefix);
  ASSERT_TRUE(resume.ok());
  EXPECT_EQ(*resume, second.revision + 1);
  // Restoring into the gap is refused: no segments hold what came between the backups.
  std::map<std::string, KeyState> got;
  int64_t got_rev = 0;
  EXPECT_EQ(Restore({second.revision - 1, {}}, &got, &got_rev).code(), StatusCode::kFailedPrecondition);
}

TEST_F(DeltaBackupTest, DamagedMissingOrMismatchedDeltasAreRefusedAndNothingIsRestored) {
  StartSource(1);
  Client src(members_[0]);
  for (int i = 0; i < 20; ++i) src.Put("k/" + std::to_string(i), "a");
  const BackupManifest full = FullBackup();
  int64_t last = 0;
  {
    DeltaShipperOptions o = Options();
    o.compression = Compression::kNone;  // so a flipped byte reaches the segment's own checksum
    RunningShipper shipper(*client_, *store_, o);
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 10; ++i) last = src.Put("k/" + std::to_string(i), "r" + std::to_string(round));
      ASSERT_TRUE(shipper.WaitShipped(last));
    }
    ASSERT_TRUE(shipper.Stop().ok());
  }
  const auto chain = Chain(full.revision + 1);
  ASSERT_GE(chain.size(), 3u);
  const std::string middle = dir_.Join("pvc") + "/" + DeltaSegmentName(kPrefix, chain[1].first, chain[1].last, Compression::kNone);
  std::string bytes;
  {
    std::ifstream in(middle, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::map<std::string, KeyState> got;
  int64_t got_rev = 0;
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x04;
  std::ofstream(middle, std::ios::binary | std::ios::trunc) << damaged;
  Status st = Restore({last, {}}, &got, &got_rev);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(DeltaSegmentName(kPrefix, chain[1].first, chain[1].last, Compression::kNone)),
            std::string::npos) << st.ToString();
  // A target before the damage needs only the first segment.
  EXPECT_TRUE(Restore({chain[0].last, {}}, &got, &got_rev).ok());
  EXPECT_EQ(got_rev, chain[0].last);

  std::filesystem::remove(middle);
  st = Restore({last, {}}, &got, &got_rev);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("end at revision " + std::to_string(chain[0].last)), std::string::npos) << st.ToString();
  st = Restore({0, Clock::now()}, &got, &got_rev);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("break off"), std::string::npos) << st.ToString();

  // The server refuses deltas that do not continue the snapshot, and leaves no data dir.
  std::ofstream(dir_.Join("late.deltas"), std::ios::binary) << EncodeDeltaBody(last + 5, {});
  std::ofstream db(dir_.Join("full.db"), std::ios::binary);
  ASSERT_TRUE(FetchBackup(*store_, ManifestName(full.object), [&](const char* p, size_t n) {
                db.write(p, static_cast<std::streamsize>(n));
                return Status::Ok();
              }).ok());
  db.close();
  std::filesystem::remove_all(dir_.Join("restored"));
  std::filesystem::create_directories(dir_.Join("restored"));
  EXPECT_NE(std::system(RestoreCommand(dir_.Join("full.db"), dir_.Join("late.deltas")).c_str()), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("restored") + "/data"));
  std::ifstream log(dir_.Join("restore.log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("starts at revision " + std::to_string(last + 5)), std::string::npos) << text;
}

TEST(DeltaRetentionTest, SegmentsGoOnceTheyEndAtOrBeforeTheOldestKeptFullBackup) {
  const std::vector<std::string> keys = {
      DeltaSegmentName("p/", 1, 10, Compression::kZstd), DeltaSegmentName("p/", 11, 20, Compression::kZstd),
      DeltaSegmentName("p/", 21, 30, Compression::kZstd), "p/full-20260101T000000Z-00000000000000000020.db.zst",
      DeltaSegmentName("q/", 1, 5, Compression::kZstd)};
  EXPECT_EQ(ExpiredDeltaSegments(keys, "p/", 20), (std::vector<std::string>{keys[0], keys[1]}));
  EXPECT_EQ(ExpiredDeltaSegments(keys, "p/", 25), (std::vector<std::string>{keys[0], keys[1]}))
      << "21-30 still holds revisions after the oldest full backup";
  EXPECT_TRUE(ExpiredDeltaSegments(keys, "p/", 9).empty());
}

}  // namespace
}  // namespace cairn::op::backup
