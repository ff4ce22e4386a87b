#include "server/transport/peer_transport.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <filesystem>
#include <fstream>
#include <optional>

#include "server/transport/peer_client.h"
#include "server/transport/peer_server.h"
#include "server/transport/snapshot_file.h"
#include "server/raft/codec.h"

namespace cairn::transport {
namespace {

using namespace std::chrono_literals;

class RecordingHandler final : public PeerHandler {
 public:
  explicit RecordingHandler(uint64_t cluster_id) : cluster_id_(cluster_id) {}
  uint64_t ClusterId() const override { return cluster_id_; }
  Status DeliverFromPeer(raft::Message m) override {
    {
      std::lock_guard lock(mu_);
      received_.push_back(std::move(m));
    }
    cv_.notify_all();
    return Status::Ok();
  }
  cairnpb::ClusterInfo GetClusterInfo() const override {
    cairnpb::ClusterInfo info;
    info.set_cluster_id(cluster_id_);
    return info;
  }
  // Knows lease 5 only (TTL 42).
  Result<int64_t> RenewLeaseAsLeader(int64_t id) override {
    if (id != 5) return Status::NotFound("etcdserver: requested lease not found");
    return int64_t{42};
  }
  Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLiveAsLeader(
      const etcdserverpb::LeaseTimeToLiveRequest& request) override {
    if (request.id() == 6) return Status::FailedPrecondition("not the leader");
    etcdserverpb::LeaseTimeToLiveResponse response;
    response.set_id(request.id());
    response.set_ttl(request.id() == 5 ? 40 : -1);
    return response;
  }

  // Adds a member with the requested peer URLs as ID 9; refuses every other change the
  // way a follower would.
  Result<cairnpb::MemberChangeResponse> ChangeMembershipAsLeader(const cairnpb::MemberChangeRequest& request) override {
    if (!request.has_add()) return Status::FailedPrecondition("etcdserver: not leader");
    cairnpb::MemberChangeResponse response;
    response.mutable_added()->set_id(9);
    for (const auto& url : request.add().peerurls()) response.mutable_added()->add_peer_urls(url);
    *response.add_members() = response.added();
    return response;
  }

  std::string SnapshotScratchPath() override { return scratch_; }
  Status InstallSnapshot(raft::Message m, const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    installed_data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    installed_ = std::move(m);
    std::remove(path.c_str());
    return Status::Ok();
  }
  std::string scratch_ = "/tmp/cairn-transport-test-" + std::to_string(::getpid()) + "-incoming.db";
  std::optional<raft::Message> installed_;
  std::string installed_data_;

  bool WaitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }
  std::vector<raft::Message> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  const uint64_t cluster_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<raft::Message> received_;
};

class UnreachableLog {
 public:
  std::function<void(uint64_t)> Callback() {
    return [this](uint64_t id) {
      std::lock_guard lock(mu_);
      ids_.insert(id);
    };
  }
  bool Contains(uint64_t id) {
    std::lock_guard lock(mu_);
    return ids_.count(id) > 0;
  }
  bool WaitFor(uint64_t id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Contains(id)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::set<uint64_t> ids_;
};

std::string SocketUrl(const std::string& tag) {
  const std::string path = "/tmp/cairn-transport-test-" + std::to_string(::getpid()) + "-" + tag + ".sock";
  ::unlink(path.c_str());
  return "unix://" + path;
}

raft::Message Append(uint64_t index) {
  raft::Message m;
  m.type = raft::MessageType::MsgApp;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.index = index;
  m.entries.push_back(raft::Entry{3, index + 1, raft::EntryType::kNormal, "payload-" + std::to_string(index)});
  return m;
}

TEST(PeerTransportTest, DeliversMessagesInOrderAndIntact) {
  RecordingHandler handler(7);
  const std::string url = SocketUrl("order");
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  UnreachableLog unreachable;
  PeerTransport transport(7, unreachable.Callback());
  transport.SetPeers({{2, {url}}});
  std::vector<raft::Message> batch;
  for (uint64_t i = 0; i < 200; ++i) batch.push_back(Append(i));
  transport.Send(batch);
  ASSERT_TRUE(handler.WaitFor(200, 10s));
  const auto received = handler.Received();
  ASSERT_EQ(received.size(), 200u);
  for (uint64_t i = 0; i < 200; ++i) EXPECT_EQ(received[i], batch[i]) << i;
  EXPECT_FALSE(unreachable.Contains(2));
  transport.Stop();
  server.value()->Shutdown();
}

TEST(PeerTransportTest, ReceiverRefusesAnotherClustersMessages) {
  RecordingHandler handler(7);
  const std::string url = SocketUrl("cluster");
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok());
  UnreachableLog unreachable;
  PeerTransport transport(8, unreachable.Callback());
  transport.SetPeers({{2, {url}}});
  // The sender learns of the refusal on its next write, as it would with Raft's heartbeats.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!unreachable.Contains(2) && std::chrono::steady_clock::now() < deadline) {
    transport.Send({Append(1)});
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(unreachable.Contains(2));
  EXPECT_TRUE(handler.Received().empty());
  transport.Stop();
  server.value()->Shutdown();
}

TEST(PeerTransportTest, DeadPeerIsReportedAndNeverBlocksSend) {
  UnreachableLog unreachable;
  PeerTransport transport(7, unreachable.Callback());
  transport.SetPeers({{2, {SocketUrl("nobody-listens")}}});
  const auto start = std::chrono::steady_clock::now();
  // Far more than the queue holds: the overflow is dropped, not waited for.
  for (int i = 0; i < 20000; ++i) transport.Send({Append(i)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(unreachable.WaitFor(2, 10s));
}

TEST(PeerTransportTest, MessageForUnknownOrRemovedPeerIsReportedUnreachable) {
  UnreachableLog unreachable;
  PeerTransport transport(7, unreachable.Callback());
  raft::Message m = Append(1);
  m.to = 9;
  transport.Send({m});
  EXPECT_TRUE(unreachable.Contains(9));
  RecordingHandler handler(7);
  const std::string url = SocketUrl("removed");
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok());
  transport.SetPeers({{2, {url}}});
  transport.SetPeers({});
  transport.Send({Append(1)});
  EXPECT_TRUE(unreachable.Contains(2));
  server.value()->Shutdown();
}

TEST(PeerTransportTest, RedialsAPeerThatComesBack) {
  RecordingHandler handler(7);
  const std::string url = SocketUrl("restart");
  UnreachableLog unreachable;
  PeerTransport transport(7, unreachable.Callback());
  transport.SetPeers({{2, {url}}});
  transport.Send({Append(1)});
  ASSERT_TRUE(unreachable.WaitFor(2, 10s));
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok());
  // Raft would keep sending (heartbeats); do the same until one gets through.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handler.Received().empty() && std::chrono::steady_clock::now() < deadline) {
    transport.Send({Append(2)});
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(handler.Received().empty());
  transport.Stop();
  server.value()->Shutdown();
}

TEST(PeerClientTest, UnaryCallsReachTheHandlerAndCarryItsErrors) {
  RecordingHandler handler(7);
  const std::string url = SocketUrl("unary");
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok());
  PeerClient client;
  auto info = client.GetClusterInfo({SocketUrl("dead"), url}, 5s);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->cluster_id(), 7u);
  auto ttl = client.LeaseRenew({url}, 5, 5s);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl.value(), 42);
  auto missing = client.LeaseRenew({url}, 9, 5s);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "etcdserver: requested lease not found");
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(5);
  auto answer = client.LeaseTimeToLive({url}, request, 5s);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->ttl(), 40);
  request.set_id(6);
  EXPECT_EQ(client.LeaseTimeToLive({url}, request, 5s).status().code(), StatusCode::kFailedPrecondition);
  cairnpb::MemberChangeRequest change;
  change.mutable_add()->add_peerurls("http://10.0.0.9:2380");
  auto added = client.MemberChange({url}, change, 5s);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->added().id(), 9u);
  EXPECT_EQ(added->added().peer_urls(0), "http://10.0.0.9:2380");
  change.mutable_remove()->set_id(9);
  auto refused = client.MemberChange({url}, change, 5s);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "etcdserver: not leader");
  server.value()->Shutdown();
  EXPECT_EQ(client.LeaseRenew({url}, 5, 2s).status().code(), StatusCode::kUnavailable);
}

TEST(PeerClientTest, SnapshotArrivesWholeWithItsMessage) {
  RecordingHandler handler(7);
  const std::string url = SocketUrl("snapshot");
  auto server = PeerServer::Start(&handler, {url}, {});
  ASSERT_TRUE(server.ok());
  const std::string path = "/tmp/cairn-transport-test-" + std::to_string(::getpid()) + "-outgoing.db";
  std::string data;
  for (int i = 0; data.size() < 3 * kSnapshotChunkBytes + 12345; ++i) data += "row " + std::to_string(i) + "\n";
  {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  raft::Message m;
  m.type = raft::MessageType::MsgSnap;
  m.from = 1;
  m.to = 2;
  m.term = 4;
  m.snapshot.metadata = raft::SnapshotMetadata{900, 3, raft::ConfState{{1, 2, 3}, {}}};
  PeerClient client;
  Status st = client.SendSnapshot({url}, 7, raft::EncodeMessage(m), path, [] { return false; });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(handler.installed_.has_value());
  EXPECT_EQ(*handler.installed_, m);
  EXPECT_EQ(handler.installed_data_, data);
  // Another cluster's snapshot is refused before anything is written.
  handler.installed_.reset();
  st = client.SendSnapshot({url}, 8, raft::EncodeMessage(m), path, [] { return false; });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(handler.installed_.has_value());
  // A cancelled send stops.
  EXPECT_EQ(client.SendSnapshot({url}, 7, raft::EncodeMessage(m), path, [] { return true; }).code(),
            StatusCode::kCancelled);
  std::remove(path.c_str());
  server.value()->Shutdown();
}

TEST(SnapshotFileWriterTest, WrongOrMissingChecksumIsDataLossAndLeavesNoFile) {
  const std::string path = "/tmp/cairn-transport-test-" + std::to_string(::getpid()) + "-sum.db";
  for (const std::string& digest : {std::string(), std::string(32, 'x')}) {
    SnapshotFileWriter w(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w.Append("some bytes"));
    EXPECT_EQ(w.Finish(digest).code(), StatusCode::kDataLoss);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  SnapshotFileWriter good(path);
  ASSERT_TRUE(good.Append("some bytes"));
  Sha256 sha;
  sha.Update("some bytes");
  EXPECT_TRUE(good.Finish(sha.Digest()).ok());
  EXPECT_TRUE(std::filesystem::exists(path));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace cairn::transport
