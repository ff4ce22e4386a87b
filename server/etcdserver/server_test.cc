#include "server/etcdserver/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <utility>
#include <vector>
#include <string>
#include <thread>

#include "server/auth/errors.h"
#include "server/common/fault_fs.h"
#include "server/common/test_dir.h"

namespace cairn::etcdserver {
namespace {

ServerOptions OptionsFor(const TempDir& dir, FileSystem* fs = nullptr) {
  ServerOptions o;
  o.name = "m1";
  o.data_dir.root = dir.Join("data");
  o.initial_cluster = {{"m1", {"http://127.0.0.1:2380"}}};
  o.heartbeat_interval = std::chrono::milliseconds(10);
  o.election_timeout = std::chrono::milliseconds(100);
  o.fs = fs;
  return o;
}

int64_t Put(EtcdServer& server, const std::string& key, const std::string& value) {
  cairnpb::RaftRequest request;
  request.mutable_put()->set_key(key);
  request.mutable_put()->set_value(value);
  auto result = server.Propose(std::move(request));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::get<etcdserverpb::PutResponse>(result.value()).header().revision() : -1;
}

// Returns the value and mod revision of `key`, or ("", 0) when absent.
std::pair<std::string, int64_t> Get(EtcdServer& server, const std::string& key) {
  EXPECT_TRUE(server.ReadBarrier().ok());
  etcdserverpb::RangeRequest range;
  range.set_key(key);
  auto result = server.applier().Range(range);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok() || result->kvs_size() == 0) return {"", 0};
  return {result->kvs(0).value(), result->kvs(0).mod_revision()};
}

TEST(EtcdServerTest, WritesAreAppliedAndSurviveRestartWithTheSameIdentity) {
  TempDir dir;
  uint64_t member_id = 0;
  {
    auto server = EtcdServer::Start(OptionsFor(dir));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    member_id = (*server)->member_id();
    EXPECT_EQ(Put(**server, "a", "1"), 2);
    EXPECT_EQ(Put(**server, "a", "2"), 3);
    EXPECT_EQ(Get(**server, "a"), std::make_pair(std::string("2"), int64_t{3}));
  }
  auto options = OptionsFor(dir);
  options.initial_cluster = {{"m1", {"http://10.0.0.1:2380"}}};  // ignored on restart, as in etcd
  auto server = EtcdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->member_id(), member_id);
  EXPECT_EQ(Get(**server, "a"), std::make_pair(std::string("2"), int64_t{3}));
  EXPECT_EQ(Put(**server, "b", "x"), 4);
}

TEST(EtcdServerTest, SecondServerOnTheSameDataDirIsRefused) {
  TempDir dir;
  auto first = EtcdServer::Start(OptionsFor(dir));
  ASSERT_TRUE(first.ok());
  auto second = EtcdServer::Start(OptionsFor(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().message();
}

TEST(EtcdServerTest, NameMissingFromInitialClusterIsRefused) {
  TempDir dir;
  auto options = OptionsFor(dir);
  options.name = "other";
  auto server = EtcdServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("couldn't find local name"), std::string::npos);
}

// Every acknowledged write must already be fsynced in the WAL: a crash that drops all
// unsynced file data loses none of them. (Acknowledging before the sync would leave
// the store ahead of the WAL, which restart refuses, or lose the writes.)
TEST(EtcdServerTest, AcknowledgedWritesSurviveLossOfUnsyncedData) {
  TempDir dir;
  FaultInjectingFileSystem fs(PosixFileSystem());
  std::vector<std::pair<std::string, int64_t>> acked;
  {
    auto server = EtcdServer::Start(OptionsFor(dir, &fs));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    for (int i = 0; i < 200; ++i) {
      const std::string key = "k" + std::to_string(i);
      acked.emplace_back(key, Put(**server, key, "v" + std::to_string(i)));
    }
    ASSERT_TRUE(fs.Crash().ok());
    (*server)->Stop();
  }
  auto server = EtcdServer::Start(OptionsFor(dir, &fs));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  for (size_t i = 0; i < acked.size(); ++i) {
    EXPECT_EQ(Get(**server, acked[i].first), std::make_pair("v" + std::to_string(i), acked[i].second));
  }
}

TEST(EtcdServerTest, LogCompactionReleasesWalSegmentsAndRestartStillRecovers) {
  TempDir dir;
  auto options = OptionsFor(dir);
  options.snapshot_count = 100;
  options.wal.segment_bytes = 64 * 1024;
  options.wal.max_files = 1;  // keep only what the last compaction still needs
  const std::string wal_dir = options.data_dir.WalDir();
  auto count_segments = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(wal_dir)) n += e.path().extension() == ".wal";
    return n;
  };
  const std::string value(1024, 'x');
  {
    auto server = EtcdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    for (int i = 0; i < 600; ++i) Put(**server, "key" + std::to_string(i % 50), value);
  }
  // 600 KiB of entries in 64 KiB segments: without release there would be ~10.
  EXPECT_LE(count_segments(), 4u);
  auto server = EtcdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(Get(**server, "key49").second, 601);
  EXPECT_EQ(Put(**server, "after", "restart"), 602);
}

// A log compaction records the membership (Raft's ConfState) in the WAL's snapshot
// marker; a restart rebuilds the voters from it. A member restarted once must record
// the voters it recovered, not an empty set, in its next marker: otherwise, after a
// second restart, it is not a voter of its own cluster and never campaigns.
TEST(EtcdServerTest, VotersSurviveCompactionsAcrossRestarts) {
  TempDir dir;
  auto options = OptionsFor(dir);
  options.snapshot_count = 50;
  int64_t revision = 1;
  for (int life = 0; life < 3; ++life) {
    auto server = EtcdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    // More than a compaction's worth of entries in every life.
    for (int i = 0; i < 120; ++i) ASSERT_EQ(Put(**server, "k", std::to_string(i)), ++revision) << "life " << life;
    EXPECT_TRUE((*server)->IsLeader());
  }
}

}  // namespace
}  // namespace cairn::etcdserver

namespace cairn::etcdserver {
namespace {

// Answers may leave before the SQLite commit of their batch; a serializable read on the
// same member must still see every write it was told succeeded.
TEST(EtcdServerTest, SerializableReadsSeeEveryAnsweredWrite) {
  TempDir dir;
  auto server = EtcdServer::Start(OptionsFor(dir));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  for (int i = 0; i < 300; ++i) {
    const std::string value = "v" + std::to_string(i);
    const int64_t rev = Put(**server, "ryw", value);
    ASSERT_TRUE((*server)->LocalReadBarrier().ok());
    etcdserverpb::RangeRequest range;
    range.set_key("ryw");
    range.set_serializable(true);
    auto result = (*server)->applier().Range(range);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->kvs_size(), 1);
    ASSERT_EQ(result->kvs(0).value(), value) << "write answered at revision " << rev << " not visible";
  }
}

}  // namespace
}  // namespace cairn::etcdserver

namespace cairn::etcdserver {
namespace {

// The lessor's clock, moved by the test: lease expiry and checkpoints without waiting.
class FakeLeaseClock {
 public:
  lease::Clock::time_point Now() const { return lease::Clock::time_point(lease::Clock::duration(now_.load())); }
  void Advance(std::chrono::seconds d) { now_ += std::chrono::duration_cast<lease::Clock::duration>(d).count(); }
  std::function<lease::Clock::time_point()> Function() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<lease::Clock::rep> now_{std::chrono::duration_cast<lease::Clock::duration>(std::chrono::hours(1)).count()};
};

// Waits (bounded) until `done` holds; the work it waits for is already under way.
template <typename F>
bool Eventually(F done) {
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10); std::chrono::steady_clock::now() < end;) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

void GrantLease(EtcdServer& server, int64_t id, int64_t ttl) {
  cairnpb::RaftRequest grant;
  grant.mutable_lease_grant()->set_id(id);
  grant.mutable_lease_grant()->set_ttl(ttl);
  ASSERT_TRUE(server.Propose(grant).ok());
}

// A lease's remaining TTL is checkpointed through the log, so a restart continues it
// instead of granting a fresh full TTL (which, repeated, would keep it alive forever).
TEST(EtcdServerTest, CheckpointedLeaseContinuesItsRemainingTtlAfterRestart) {
  TempDir dir;
  FakeLeaseClock clock;
  auto options = OptionsFor(dir);
  options.lease_checkpoint_interval = std::chrono::seconds(1);
  options.lease_clock = clock.Function();
  {
    auto server = EtcdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    GrantLease(**server, 42, 10);
    // Whatever else the start proposed is applied once a write after it is (and the
    // applied index shows that write once the store does).
    Put(**server, "barrier", "");
    ASSERT_TRUE((*server)->LocalReadBarrier().ok());
    const uint64_t applied = (*server)->GetStatus().applied_index;
    clock.Advance(std::chrono::seconds(3));
    // The checkpoint is the one entry left to come.
    ASSERT_TRUE(Eventually([&] { return (*server)->GetStatus().applied_index > applied; }))
        << "no checkpoint was applied";
  }
  auto server = EtcdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto ttl = (*server)->lessor().TimeToLive(42, false);
  ASSERT_TRUE(ttl.has_value());
  EXPECT_EQ(ttl->granted_ttl, 10);
  EXPECT_EQ(ttl->remaining_ttl, 7) << "restart did not continue from the checkpoint";
}

// Expiry follows the lessor's clock alone: a lease whose TTL has run out on it is
// revoked, with its keys, and one kept alive meanwhile is not.
TEST(EtcdServerTest, LeaseExpiresWhenItsClockPassesTheTtl) {
  TempDir dir;
  FakeLeaseClock clock;
  auto options = OptionsFor(dir);
  options.lease_clock = clock.Function();
  auto server = EtcdServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  GrantLease(**server, 7, 5);
  GrantLease(**server, 8, 5);
  for (const auto& [key, lease] : {std::pair{"expiring", 7}, std::pair{"renewed", 8}}) {
    cairnpb::RaftRequest put;
    put.mutable_put()->set_key(key);
    put.mutable_put()->set_lease(lease);
    ASSERT_TRUE((*server)->Propose(put).ok());
  }
  clock.Advance(std::chrono::seconds(4));
  EXPECT_EQ((*server)->lessor().TimeToLive(7, false)->remaining_ttl, 1);
  ASSERT_TRUE((*server)->RenewLease(8).ok());
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(Eventually([&] { return !(*server)->lessor().Exists(7); })) << "the lease outlived its TTL";
  EXPECT_EQ(Get(**server, "expiring").second, 0) << "its key outlived it";
  EXPECT_EQ(Get(**server, "renewed").first, "");
  EXPECT_NE(Get(**server, "renewed").second, 0) << "the renewed lease expired with the other";
  EXPECT_EQ((*server)->lessor().TimeToLive(8, false)->remaining_ttl, 4);
}

}  // namespace
}  // namespace cairn::etcdserver

namespace cairn::etcdserver {
namespace {

// A follower swaps in the leader's store before its WAL records the snapshot; a crash
// in between leaves a store ahead of the WAL that says it was installed. Start-up must
// finish the installation instead of refusing the data dir.
TEST(EtcdServerTest, StoreInstalledAheadOfTheWalIsRecoveredAtStartUp) {
  TempDir source_dir, target_dir;
  {
    auto source = EtcdServer::Start(OptionsFor(source_dir));
    ASSERT_TRUE(source.ok());
    for (int i = 0; i < 20; ++i) Put(**source, "k" + std::to_string(i), "v");
  }
  {
    auto target = EtcdServer::Start(OptionsFor(target_dir));  // same identity, a short log
    ASSERT_TRUE(target.ok());
  }
  const std::string copy = target_dir.Join("copy.db");
  uint64_t applied = 0;
  {
    auto store = mvcc::Store::Open({.path = OptionsFor(source_dir).data_dir.MvccPath()});
    ASSERT_TRUE(store.ok());
    auto info = (*store)->CopyTo(copy);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    applied = info->applied_index;
  }
  {
    // What InstallStore does, then "crash" before Raft's Ready writes the WAL marker.
    auto store = mvcc::Store::Open({.path = OptionsFor(target_dir).data_dir.MvccPath()});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->ReplaceWith(copy).ok());
    mvcc::ApplyBatch batch(**store);
    batch.SetMeta("installed_snapshot", std::to_string(applied));
    batch.Commit(applied);
  }
  auto restarted = EtcdServer::Start(OptionsFor(target_dir));
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_EQ(Get(**restarted, "k19").first, "v");
  EXPECT_EQ(Put(**restarted, "after", "x"), 22);
  restarted.value()->Stop();
  // Without the marker the same situation is a mismatched data dir and is refused.
  {
    auto store = mvcc::Store::Open({.path = OptionsFor(source_dir).data_dir.MvccPath()});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CopyTo(target_dir.Join("copy2.db")).ok());
  }
  TempDir fresh;
  {
    auto s = EtcdServer::Start(OptionsFor(fresh));
    ASSERT_TRUE(s.ok());
  }
  {
    auto store = mvcc::Store::Open({.path = OptionsFor(fresh).data_dir.MvccPath()});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->ReplaceWith(target_dir.Join("copy2.db")).ok());
  }
  auto refused = EtcdServer::Start(OptionsFor(fresh));
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cairn::etcdserver

namespace cairn::etcdserver {
namespace {

TEST(EtcdServerTest, QuotaDefaultsToTwoGibAndNegativeMeansNone) {
  TempDir dir;
  for (const auto& [flag, quota] : std::vector<std::pair<int64_t, int64_t>>{
           {0, int64_t{2} * 1024 * 1024 * 1024}, {-1, 0}, {4096, 4096}}) {
    auto options = OptionsFor(dir);
    options.quota_backend_bytes = flag;
    auto server = EtcdServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    EXPECT_EQ((*server)->QuotaBytes(), quota) << "flag " << flag;
    EXPECT_EQ((*server)->GetStatus().quota_bytes, quota) << "flag " << flag;
  }
}

TEST(EtcdServerTest, ClientSnapshotsLeaveNoFileAndCrashLeftoversAreRemoved) {
  TempDir dir;
  const std::string snap_dir = dir.Join("data") + "/member/snap";
  {
    auto server = EtcdServer::Start(OptionsFor(dir));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    // Answered before its batch is visible to readers: the snapshot must still hold it.
    const int64_t answered = Put(**server, "a", "1");
    auto snapshot = (*server)->SnapshotStore();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    EXPECT_GT(snapshot->size, 0u);
    EXPECT_EQ(snapshot->revision, answered) << "the snapshot holds every answered write, and says at which revision";
    std::string data((std::istreambuf_iterator<char>(snapshot->data)), std::istreambuf_iterator<char>());
    EXPECT_EQ(data.size(), snapshot->size);
    EXPECT_EQ(data.rfind("SQLite format 3", 0), 0u);
    for (const auto& f : std::filesystem::directory_iterator(snap_dir)) ADD_FAILURE() << "left behind: " << f.path();
  }
  std::ofstream(snap_dir + "/client-7.db") << "cut short";
  std::ofstream(snap_dir + "/unrelated.txt") << "kept";
  auto server = EtcdServer::Start(OptionsFor(dir));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(snap_dir + "/client-7.db"));
  EXPECT_TRUE(std::filesystem::exists(snap_dir + "/unrelated.txt"));
}

// Proposes `request` as `user` checked at auth revision `revision`.
Status ProposeAs(EtcdServer& server, cairnpb::RaftRequest request, const std::string& user, uint64_t revision) {
  request.mutable_header()->set_username(user);
  request.mutable_header()->set_auth_revision(revision);
  return server.Propose(std::move(request)).status();
}

cairnpb::RaftRequest PutOf(const std::string& key) {
  cairnpb::RaftRequest request;
  request.mutable_put()->set_key(key);
  return request;
}

TEST(EtcdServerTest, AuthStoreIsAppliedPersistedAndChecksWritesAtTheirAuthRevision) {
  TempDir dir;
  {
    auto server = EtcdServer::Start(OptionsFor(dir));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    EtcdServer& s = **server;
    cairnpb::RaftRequest r;
    r.mutable_auth_user_add()->set_name("root");
    r.mutable_auth_user_add()->set_hashedpassword("$2b$04$unused");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_user_grant_role()->set_user("root");
    r.mutable_auth_user_grant_role()->set_role("root");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_user_add()->set_name("u");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_role_add()->set_name("r");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_role_grant_permission()->set_name("r");
    r.mutable_auth_role_grant_permission()->mutable_perm()->set_permtype(authpb::Permission::WRITE);
    r.mutable_auth_role_grant_permission()->mutable_perm()->set_key("k");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_user_grant_role()->set_user("u");
    r.mutable_auth_user_grant_role()->set_role("r");
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    r.mutable_auth_enable();
    ASSERT_TRUE(ProposeAs(s, r, "", 1).ok());
    ASSERT_TRUE(s.auth_store().enabled());
    const uint64_t rev = s.auth_store().revision();

    EXPECT_TRUE(ProposeAs(s, PutOf("k"), "u", rev).ok());
    EXPECT_EQ(ProposeAs(s, PutOf("other"), "u", rev), auth::ErrPermissionDenied());
    EXPECT_EQ(ProposeAs(s, PutOf("k"), "", rev), auth::ErrUserEmpty());
    // Auth changes need root once auth is on.
    r.mutable_auth_role_add()->set_name("x");
    EXPECT_EQ(ProposeAs(s, r, "u", rev), auth::ErrPermissionDenied());
    ASSERT_TRUE(ProposeAs(s, r, "root", rev).ok());
    // The store moved on: a write checked before that is refused when applied.
    EXPECT_EQ(ProposeAs(s, PutOf("k"), "u", rev), auth::ErrAuthOldRevision());
    EXPECT_TRUE(ProposeAs(s, PutOf("k"), "u", rev + 1).ok());
    // The member's own requests (revision 0) are not checked: lease expiry, alarms.
    EXPECT_TRUE(ProposeAs(s, PutOf("other"), "", 0).ok());
  }
  auto restarted = EtcdServer::Start(OptionsFor(dir));
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_TRUE((*restarted)->auth_store().enabled());
  EXPECT_EQ((*restarted)->auth_store().RoleList().roles_size(), 2);
  EXPECT_EQ(ProposeAs(**restarted, PutOf("other"), "u", (*restarted)->auth_store().revision()),
            auth::ErrPermissionDenied());
}

}  // namespace
}  // namespace cairn::etcdserver
