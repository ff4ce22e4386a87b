// The Watch gRPC service end to end (real gRPC client and server, real store and hub):
// etcd's response shapes and headers, prev_kv, cancel, progress, fragmentation, the
// hasleader metadata.
#include "server/api/watch_service.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "server/watch/tests/grpc_harness.h"

namespace cairn::watch::testing {
namespace {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchResponse;
using Responses = std::vector<WatchResponse>;

WatchCreateRequest Create(std::string key, std::string end = "", int64_t start = 0) {
  WatchCreateRequest c;
  c.set_key(std::move(key));
  c.set_range_end(std::move(end));
  c.set_start_revision(start);
  return c;
}

auto HasAtLeast(size_t n) {
  return [n](const Responses& r) { return r.size() >= n; };
}

// `n` streams on `server`'s channel, each with a watcher on "k" that has been created.
std::vector<std::unique_ptr<WatchClient>> WatchersOfK(WatchServer& server, int n) {
  std::vector<std::unique_ptr<WatchClient>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<WatchClient>(server.channel()));
    EXPECT_TRUE(clients.back()->Create(Create("k")));
  }
  for (auto& c : clients) EXPECT_TRUE(c->WaitFor(HasAtLeast(1)));
  return clients;
}

TEST(WatchServiceTest, CreateEventsCancelAndProgressLookLikeEtcd) {
  WatchServer server({}, {});
  server.Apply({OpPut("k", "old")});  // 2
  WatchClient client(server.channel());
  WatchCreateRequest c = Create("k");
  c.set_prev_kv(true);
  ASSERT_TRUE(client.Create(c));
  ASSERT_TRUE(client.WaitFor(HasAtLeast(1)));
  server.Apply({OpPut("k", "new"), OpPut("other", "x")});  // 3
  server.Apply({OpDel("k")});                               // 4
  ASSERT_TRUE(client.WaitFor(HasAtLeast(3)));
  ASSERT_TRUE(client.Cancel(0));
  ASSERT_TRUE(client.RequestProgress());
  ASSERT_TRUE(client.WaitFor(HasAtLeast(5)));
  const Responses r = client.Responses();
  for (const WatchResponse& x : r) {
    EXPECT_EQ(x.header().cluster_id(), 0x1234u);
    EXPECT_EQ(x.header().member_id(), 0x5678u);
    EXPECT_EQ(x.header().raft_term(), 3u);
  }
  EXPECT_TRUE(r[0].created());
  EXPECT_EQ(r[0].watch_id(), 0);
  EXPECT_EQ(r[0].header().revision(), 2);
  ASSERT_EQ(r[1].events_size(), 1);
  EXPECT_EQ(r[1].header().revision(), 3);
  EXPECT_EQ(r[1].events(0).type(), mvccpb::Event::PUT);
  EXPECT_EQ(r[1].events(0).kv().value(), "new");
  EXPECT_EQ(r[1].events(0).prev_kv().value(), "old");
  ASSERT_EQ(r[2].events_size(), 1);
  EXPECT_EQ(r[2].events(0).type(), mvccpb::Event::DELETE);
  EXPECT_EQ(r[2].events(0).kv().mod_revision(), 4);
  EXPECT_EQ(r[2].events(0).prev_kv().value(), "new");
  EXPECT_TRUE(r[3].canceled());
  EXPECT_EQ(r[3].watch_id(), 0);
  EXPECT_EQ(r[4].watch_id(), -1);
  EXPECT_EQ(r[4].header().revision(), 4);
  EXPECT_EQ(r[4].events_size(), 0);
  EXPECT_FALSE(r[4].created() || r[4].canceled());
}

// Answers leave before their batch is visible in the store. A watch created "from now"
// after a put was answered must start after that put, not deliver it.
TEST(WatchServiceTest, AWatchFromNowStartsAfterEveryAnsweredWrite) {
  WatchServer server({}, {});
  server.Apply({OpPut("k", "v1")});  // 2
  {
    std::lock_guard lock(server.member().mu_);
    server.member().answered_not_visible = [&server] { server.Apply({OpPut("k", "answered")}); };  // 3
  }
  WatchClient client(server.channel());
  ASSERT_TRUE(client.Create(Create("k")));
  ASSERT_TRUE(client.WaitFor(HasAtLeast(1)));
  (void)server.member().LocalReadBarrier();  // the batch becomes visible anyway
  server.Apply({OpPut("k", "after")});       // 4
  ASSERT_TRUE(client.WaitFor(HasAtLeast(2)));
  const Responses r = client.Responses();
  EXPECT_TRUE(r[0].created());
  EXPECT_EQ(r[0].header().revision(), 3) << "created after the answered put";
  ASSERT_EQ(r[1].events_size(), 1);
  EXPECT_EQ(r[1].events(0).kv().value(), "after") << "the answered put was delivered as if it came later";
}

TEST(WatchServiceTest, AWatchTheCallerMayNotReadIsRefusedAndTheStreamGoesOn) {
  WatchServer server({}, {});
  WatchClient client(server.channel());
  WatchCreateRequest refused = Create("secret/a");
  refused.set_watch_id(7);
  ASSERT_TRUE(client.Create(refused));
  ASSERT_TRUE(client.Create(Create("k")));
  ASSERT_TRUE(client.WaitFor(HasAtLeast(2)));
  server.Apply({OpPut("secret/a", "x"), OpPut("k", "v")});
  ASSERT_TRUE(client.WaitFor(HasAtLeast(3)));
  const Responses r = client.Responses();
  EXPECT_TRUE(r[0].created() && r[0].canceled());
  EXPECT_EQ(r[0].watch_id(), 7);
  EXPECT_EQ(r[0].cancel_reason(), "rpc error: code = PermissionDenied desc = etcdserver: permission denied");
  EXPECT_TRUE(r[1].created() && !r[1].canceled());
  ASSERT_EQ(r[2].events_size(), 1);
  EXPECT_EQ(r[2].events(0).kv().key(), "k");
}

TEST(WatchServiceTest, EmptyKeyIsTheSmallestKeySoFromKeyWatchesEverything) {
  WatchServer server({}, {});
  WatchClient client(server.channel());
  ASSERT_TRUE(client.Create(Create("", std::string(1, '\0'))));
  ASSERT_TRUE(client.WaitFor(HasAtLeast(1)));
  server.Apply({OpPut("a", "1"), OpPut("\x01", "2")});
  ASSERT_TRUE(client.WaitFor(HasAtLeast(2)));
  EXPECT_EQ(client.Responses()[1].events_size(), 2);
}

TEST(WatchServiceTest, LargeResponsesAreFragmentedOnlyForWatchersThatAskForIt) {
  api::WatchServiceOptions o;
  o.max_response_bytes = 1000;
  WatchServer server(o, {});
  WatchClient client(server.channel());
  WatchCreateRequest frag = Create("k", "l");
  frag.set_fragment(true);
  frag.set_watch_id(1);
  WatchCreateRequest whole = Create("k", "l");
  whole.set_watch_id(2);
  ASSERT_TRUE(client.Create(frag));
  ASSERT_TRUE(client.Create(whole));
  ASSERT_TRUE(client.WaitFor(HasAtLeast(2)));
  std::vector<Op> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(OpPut("k" + std::to_string(i), std::string(300, 'v')));
  server.Apply(ops);
  auto whole_arrived = [](const Responses& r) {
    for (const auto& x : r) {
      if (x.watch_id() == 2 && x.events_size() > 0) return true;
    }
    return false;
  };
  ASSERT_TRUE(client.WaitFor(whole_arrived));
  ASSERT_TRUE(client.WaitFor([](const Responses& r) {
    for (const auto& x : r) {
      if (x.watch_id() == 1 && x.events_size() > 0 && !x.fragment()) return true;
    }
    return false;
  }));
  const Responses all = client.Responses();
  std::vector<const WatchResponse*> fragments;
  for (const auto& x : all) {
    if (x.events_size() == 0) continue;
    if (x.watch_id() == 2) {
      EXPECT_EQ(x.events_size(), 10);
      EXPECT_FALSE(x.fragment());
    } else {
      fragments.push_back(&x);
    }
  }
  ASSERT_GE(fragments.size(), 3u);
  int total = 0;
  for (size_t i = 0; i < fragments.size(); ++i) {
    EXPECT_EQ(fragments[i]->fragment(), i + 1 < fragments.size());
    EXPECT_LT(fragments[i]->ByteSizeLong(), 1000u);
    for (const auto& e : fragments[i]->events()) EXPECT_EQ(e.kv().key(), "k" + std::to_string(total++));
  }
  EXPECT_EQ(total, 10);
}

TEST(WatchServiceTest, HasLeaderStreamsAreRefusedAndEndedWithoutALeader) {
  api::WatchServiceOptions o;
  o.leader_loss_grace = std::chrono::milliseconds(50);
  o.leader_check_interval = std::chrono::milliseconds(10);
  WatchServer server(o, {});
  WatchClient plain(server.channel());
  WatchClient guarded(server.channel(), /*has_leader_md=*/true);
  ASSERT_TRUE(guarded.Create(Create("k")));
  ASSERT_TRUE(plain.Create(Create("k")));
  ASSERT_TRUE(guarded.WaitFor(HasAtLeast(1)));
  ASSERT_TRUE(plain.WaitFor(HasAtLeast(1)));
  server.member().has_leader = false;
  ASSERT_TRUE(guarded.WaitEnded());
  const grpc::Status st = guarded.FinishNow();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "etcdserver: no leader");
  EXPECT_FALSE(plain.Ended());  // only streams that asked for a leader are ended

  WatchClient refused(server.channel(), /*has_leader_md=*/true);
  const grpc::Status st2 = refused.FinishNow();
  EXPECT_EQ(st2.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st2.error_message(), "etcdserver: no leader");
}

// Streams are spread over several completion queues; each still gets its events, and
// when the member stops every stream ends at once (and any opened later), with etcd's
// "server stopped", instead of holding the server's shutdown for its whole deadline.
TEST(WatchServiceTest, StreamsOnEveryQueueWorkAndEndWhenTheServiceEndsThem) {
  api::WatchServiceOptions o;
  o.completion_queues = 3;
  WatchServer server(o, {});
  const auto clients = WatchersOfK(server, 8);
  ASSERT_FALSE(HasFailure());
  const int64_t rev = server.Apply({OpPut("k", "v")});
  for (auto& c : clients) {
    ASSERT_TRUE(c->WaitFor(HasAtLeast(2)));
    ASSERT_EQ(c->Responses()[1].events_size(), 1);
    EXPECT_EQ(c->Responses()[1].events(0).kv().mod_revision(), rev);
  }
  server.service().EndStreams();
  for (auto& c : clients) {
    ASSERT_TRUE(c->WaitEnded());
    const grpc::Status st = c->FinishNow();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(st.error_message(), "etcdserver: server stopped");
  }
  WatchClient late(server.channel());
  const grpc::Status st = late.FinishNow();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "etcdserver: server stopped");
}

// A server shutdown that cancels streams with writes in flight: their cancellations
// are handled (and their finishes started) while the service stops, which must wait
// for them rather than shut its queues down under them.
TEST(WatchServiceTest, AShutdownThatCancelsBusyStreamsStopsCleanly) {
  for (int round = 0; round < 20; ++round) {
    auto server = std::make_unique<WatchServer>(api::WatchServiceOptions{}, HubOptions{});
    server->shutdown_grace = std::chrono::milliseconds(0);
    const auto clients = WatchersOfK(*server, 4);
    ASSERT_FALSE(HasFailure());
    for (int i = 0; i < 50; ++i) server->Apply({OpPut("k", std::string(1000, 'v'))});
    server.reset();
    for (auto& c : clients) EXPECT_TRUE(c->WaitEnded());
  }
}

// Clients that give up on their streams while the member stops: each stream's
// cancellation (its read failing on its queue's thread) races the service ending it
// from the stopping thread, while the hub is busy fanning out. Whichever comes last,
// the stream must stay alive until its finish has completed.
TEST(WatchServiceTest, StreamsAbandonedWhileTheServiceEndsThemStopCleanly) {
  for (int round = 0; round < 40; ++round) {
    auto server = std::make_unique<WatchServer>(api::WatchServiceOptions{}, HubOptions{});
    server->shutdown_grace = std::chrono::milliseconds(0);
    const auto clients = WatchersOfK(*server, 64);
    ASSERT_FALSE(HasFailure());
    std::thread writer([&] {
      for (int i = 0; i < 20; ++i) server->Apply({OpPut("k", std::string(1000, 'v'))});
    });
    for (auto& c : clients) c->Abandon();
    server->service().EndStreams();
    writer.join();
    server.reset();
    for (auto& c : clients) EXPECT_TRUE(c->WaitEnded());
  }
}

}  // namespace
}  // namespace cairn::watch::testing
