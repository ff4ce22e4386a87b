// Full backups of a real Cairn member into a directory and into s3rver, fetched back and
// restored with `cairn snapshot restore`: every key, value and revision must come back.
#include "operator/backup/full_backup.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "operator/s3/tests/s3rver_process.h"
#include "operator/tests/etcd_process.h"
#include "server/common/test_dir.h"

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;
using op::testing::EtcdMember;
using op::testing::EtcdProcess;

constexpr const char* kBucket = "backups";

struct KeyState {
  std::string value;
  int64_t create_revision = 0, mod_revision = 0, version = 0;
  bool operator==(const KeyState&) const = default;
};

std::map<std::string, KeyState> ReadAll(const EtcdMember& m, int64_t* revision) {
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(m.client_port),
                                                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  ctx.set_wait_for_ready(true);
  etcdserverpb::RangeRequest req;
  req.set_key(std::string(1, '\0'));
  req.set_range_end(std::string(1, '\0'));
  etcdserverpb::RangeResponse resp;
  const grpc::Status st = kv->Range(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  if (revision != nullptr) *revision = resp.header().revision();
  std::map<std::string, KeyState> out;
  for (const auto& k : resp.kvs()) out[k.key()] = {k.value(), k.create_revision(), k.mod_revision(), k.version()};
  return out;
}

void Write(const EtcdMember& m, int n, const std::string& tag) {
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(m.client_port),
                                                          grpc::InsecureChannelCredentials()));
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    ctx.set_wait_for_ready(true);
    etcdserverpb::PutRequest req;
    req.set_key("key/" + std::to_string(i % 150));  // rewrites give keys several versions
    req.set_value(tag + std::string(static_cast<size_t>(i % 700), static_cast<char>('a' + i % 26)));
    etcdserverpb::PutResponse resp;
    ASSERT_TRUE(kv->Put(&ctx, req, &resp).ok());
  }
}

class FullBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("CAIRN_MEMBERSHIP_SERVER") == nullptr) GTEST_SKIP() << "needs CAIRN_MEMBERSHIP_SERVER=<cairn>";
    const int base = op::testing::PortBase();
    source_ = {"src", base, base + 1};
    restored_ = {"restored", base + 2, base + 3};
    src_proc_ = std::make_unique<EtcdProcess>(source_, "src=" + source_.PeerUrl(), "new", dir_.Join("src"));
    Write(source_, 400, "v1-");
    members_ = std::make_unique<MembershipClient>(std::vector<std::string>{source_.ClientUrl()}, 5s);
  }

  FullBackupRequest Request(Compression c) {
    FullBackupRequest r;
    r.cluster = "default/src";
    r.version = "0.1.0";
    r.endpoints = {source_.ClientUrl()};
    r.prefix = "team/default/src/";
    r.compression = c;
    return r;
  }

  // Fetches the backup, restores it with `cairn snapshot restore`, starts a member on it
  // and reads everything back.
  std::map<std::string, KeyState> FetchAndRestore(ObjectStore& store, const std::string& manifest, int64_t* rev) {
    const std::string file = dir_.Join("fetched.db");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    auto fetched = FetchBackup(store, manifest, [&](const char* p, size_t n) {
      out.write(p, static_cast<std::streamsize>(n));
      return out ? Status::Ok() : Status::IoError("write " + file);
    });
    out.close();
    EXPECT_TRUE(fetched.ok()) << fetched.status().ToString();
    if (!fetched.ok()) return {};
    const std::string data = dir_.Join("restored") + "/data";
    std::filesystem::remove_all(dir_.Join("restored"));
    std::filesystem::create_directories(dir_.Join("restored"));
    const std::string cmd = std::string(std::getenv("CAIRN_MEMBERSHIP_SERVER")) + " snapshot restore " + file +
                            " --name=restored --data-dir=" + data + " --initial-cluster=restored=" +
                            restored_.PeerUrl() + " --initial-advertise-peer-urls=" + restored_.PeerUrl() +
                            " --initial-cluster-token=restored > " + dir_.Join("restore.log") + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    EtcdProcess member(restored_, "restored=" + restored_.PeerUrl(), "new", dir_.Join("restored"));
    return ReadAll(restored_, rev);
  }

  TempDir dir_;
  EtcdMember source_, restored_;
  std::unique_ptr<EtcdProcess> src_proc_;
  std::unique_ptr<MembershipClient> members_;
};

TEST_F(FullBackupTest, EachCompressionRestoresEveryKeyValueAndRevision) {
  int64_t source_rev = 0;
  const auto source = ReadAll(source_, &source_rev);
  ASSERT_EQ(source.size(), 150u);
  std::filesystem::create_directories(dir_.Join("pvc"));
  auto store = NewDirectoryStore(dir_.Join("pvc"));
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    SCOPED_TRACE(CompressionName(c));
    auto m = RunFullBackup(*members_, *store, Request(c));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->revision, source_rev);
    EXPECT_EQ(m->cluster, "default/src");
    EXPECT_EQ(m->object.rfind("team/default/src/full-", 0), 0u) << m->object;
    EXPECT_NE(m->object.find(std::to_string(source_rev) + ".db" + CompressionSuffix(c)), std::string::npos);
    if (c != Compression::kNone) {
      EXPECT_LT(m->object_size, m->store_bytes / 2);
    } else {
      EXPECT_EQ(m->object_size, m->store_bytes + 32);
    }
    auto manifest = ReadManifest(*store, ManifestName(m->object));
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    EXPECT_EQ(manifest->ToJson(), m->ToJson());
    int64_t restored_rev = 0;
    EXPECT_EQ(FetchAndRestore(*store, ManifestName(m->object), &restored_rev), source);
    EXPECT_EQ(restored_rev, source_rev);
  }
  auto keys = store->List("team/");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 6u) << "three objects and their manifests, nothing partial";
}

TEST_F(FullBackupTest, DamagedOrTruncatedObjectsAreRefusedWithAChecksumError) {
  std::filesystem::create_directories(dir_.Join("pvc"));
  auto store = NewDirectoryStore(dir_.Join("pvc"));
  auto m = RunFullBackup(*members_, *store, Request(Compression::kZstd));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string path = dir_.Join("pvc") + "/" + m->object;
  std::string original;
  {
    std::ifstream in(path, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto fetch = [&] {
    return FetchBackup(*store, ManifestName(m->object), [](const char*, size_t) { return Status::Ok(); }).status();
  };
  ASSERT_TRUE(fetch().ok());
  std::string damaged = original;
  damaged[damaged.size() / 3] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
  Status st = fetch();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("fails its checksum"), std::string::npos) << st.ToString();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original.substr(0, original.size() - 100);
  st = fetch();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("fails its checksum"), std::string::npos) << st.ToString();
  std::filesystem::remove(path + kManifestSuffix);
  EXPECT_EQ(fetch().code(), StatusCode::kNotFound);
}

TEST_F(FullBackupTest, AnUnreachableMemberIsSkippedAndNoMemberMeansNoObject) {
  std::filesystem::create_directories(dir_.Join("pvc"));
  auto store = NewDirectoryStore(dir_.Join("pvc"));
  const std::string dead = "http://127.0.0.1:" + std::to_string(s3::testing::FreeLoopbackPort());
  MembershipClient members({dead, source_.ClientUrl()}, 2s);
  FullBackupRequest request = Request(Compression::kGzip);
  request.endpoints = {dead, source_.ClientUrl()};
  auto m = RunFullBackup(members, *store, request);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  request.endpoints = {dead};
  auto none = RunFullBackup(members, *store, request);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable) << none.status().ToString();
  auto keys = store->List("");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
}

// Stores through another store, calling `after_first_mib` once a MiB has been read.
class InterruptingStore : public ObjectStore {
 public:
  InterruptingStore(ObjectStore& inner, std::function<void()> after_first_mib)
      : inner_(inner), interrupt_(std::move(after_first_mib)) {}
  std::string Url(const std::string& key) const override { return inner_.Url(key); }
  Result<StoredObject> Put(const std::string& key, const ByteReader& read) override {
    uint64_t seen = 0;
    return inner_.Put(key, [&](char* buf, size_t cap) {
      auto n = read(buf, std::min<size_t>(cap, 64 * 1024));
      if (n.ok() && (seen += *n) >= (1 << 20) && interrupt_) std::exchange(interrupt_, nullptr)();
      return n;
    });
  }
  Result<StoredObject> Get(const std::string& key, const ByteWriter& write) override { return inner_.Get(key, write); }
  Result<std::vector<std::string>> List(const std::string& prefix) override { return inner_.List(prefix); }
  Status Delete(const std::string& key) override { return inner_.Delete(key); }

 private:
  ObjectStore& inner_;
  std::function<void()> interrupt_;
};

// The member killed mid-stream: the backup fails and nothing is stored under any key.
TEST_F(FullBackupTest, AStreamCutShortStoresNothing) {
  Write(source_, 3000, std::string(2000, 'z'));  // ~6 MB of history: far more than gRPC buffers
  std::filesystem::create_directories(dir_.Join("pvc"));
  auto dir = NewDirectoryStore(dir_.Join("pvc"));
  bool killed = false;
  InterruptingStore store(*dir, [&] {
    src_proc_->Kill();
    killed = true;
  });
  auto m = RunFullBackup(*members_, store, Request(Compression::kNone));
  ASSERT_TRUE(killed);
  EXPECT_FALSE(m.ok());
  EXPECT_NE(m.status().code(), StatusCode::kOk);
  auto keys = dir->List("");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty()) << keys->front();
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.Join("pvc"))) {
    EXPECT_FALSE(f.is_regular_file()) << "left behind: " << f.path();
  }
}

TEST_F(FullBackupTest, IntoS3rverAsAwsCliSeesIt) {
  if (!s3::testing::S3rverInstalled()) GTEST_SKIP() << "s3rver is not installed: run tools/install-s3rver.sh";
  s3::testing::S3rverProcess server(dir_.path(), kBucket);
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  s3::ClientConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  config.bucket = kBucket;
  config.credentials = {"S3RVER", "S3RVER", ""};
  auto client = s3::Client::Create(config);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto store = NewS3Store(std::move(*client), kBucket);
  int64_t source_rev = 0;
  const auto source = ReadAll(source_, &source_rev);
  auto m = RunFullBackup(*members_, *store, Request(Compression::kGzip));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(store->Url(m->object), std::string("s3://backups/") + m->object);
  const std::string aws = "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
                          "/usr/bin/aws --endpoint-url " + config.endpoint + " s3 ls --recursive s3://backups/ > " +
                          dir_.Join("ls.txt");
  ASSERT_EQ(std::system(aws.c_str()), 0);
  std::ifstream ls(dir_.Join("ls.txt"));
  const std::string listing((std::istreambuf_iterator<char>(ls)), std::istreambuf_iterator<char>());
  EXPECT_NE(listing.find(m->object), std::string::npos) << listing;
  EXPECT_NE(listing.find(ManifestName(m->object)), std::string::npos) << listing;
  EXPECT_NE(listing.find(std::to_string(m->object_size) + " " + m->object), std::string::npos) << listing;
  int64_t restored_rev = 0;
  EXPECT_EQ(FetchAndRestore(*store, ManifestName(m->object), &restored_rev), source);
  EXPECT_EQ(restored_rev, source_rev);

  // Wrong credentials: a clear error, and no manifest anywhere.
  s3::ClientConfig wrong = config;
  wrong.credentials = {"NOBODY", "nothing", ""};
  wrong.max_attempts = 1;
  auto bad_client = s3::Client::Create(wrong);
  ASSERT_TRUE(bad_client.ok());
  auto bad_store = NewS3Store(std::move(*bad_client), kBucket);
  auto refused = RunFullBackup(*members_, *bad_store, Request(Compression::kGzip));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  auto keys = store->List("");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
}

}  // namespace
}  // namespace cairn::op::backup
