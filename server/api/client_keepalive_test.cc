// --grpc-keepalive-min-time reaches the client server's ping policy, as etcd enforces
// it: a client that pings every 1.2 s while a watch is open stays connected when the
// minimum is 1 s, and gets GOAWAY "too_many_pings" under etcd's default of 5 s.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/client_server.h"
#include "server/api/member_fixture.h"
#include "server/common/test_dir.h"

namespace cairn::api {
namespace {

using namespace std::chrono_literals;

// Whether a channel pinging every 1.2 s, with an idle watch open, is still the same
// READY connection after `idle`.
bool IdleWatchStaysConnected(std::chrono::milliseconds min_time, std::chrono::seconds idle) {
  TempDir dir;
  etcdserver::ServerOptions o;
  o.name = "m1";
  o.data_dir.root = dir.Join("data");
  o.initial_cluster = {{"m1", {"http://127.0.0.1:2380"}}};
  o.grpc_keepalive_min_time = min_time;
  auto server = etcdserver::EtcdServer::Start(o);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  const std::string endpoint = "127.0.0.1:" + std::to_string(FreePort());
  auto clients = ClientServer::Start(server->get(), {"http://" + endpoint});
  EXPECT_TRUE(clients.ok()) << clients.status().ToString();

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 1200);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // keep pinging an idle stream
  auto channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  auto watch = etcdserverpb::Watch::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = watch->Watch(&ctx);
  etcdserverpb::WatchRequest create;
  create.mutable_create_request()->set_key("idle");
  EXPECT_TRUE(stream->Write(create));
  etcdserverpb::WatchResponse created;
  EXPECT_TRUE(stream->Read(&created) && created.created());
  bool stayed = true;
  for (auto end = std::chrono::steady_clock::now() + idle; std::chrono::steady_clock::now() < end;) {
    if (channel->GetState(false) != GRPC_CHANNEL_READY) stayed = false;
    std::this_thread::sleep_for(50ms);
  }
  ctx.TryCancel();
  (void)stream->Finish();
  (*server)->Stop();
  (*clients)->Shutdown();
  return stayed;
}

TEST(ClientKeepaliveTest, PingsAsOftenAsTheMinimumAllowsKeepTheConnection) {
  EXPECT_TRUE(IdleWatchStaysConnected(1s, 8s));
}

TEST(ClientKeepaliveTest, PingsMoreOftenThanTheDefaultMinimumGetGoaway) {
  EXPECT_FALSE(IdleWatchStaysConnected(5s, 8s));
}

}  // namespace
}  // namespace cairn::api
