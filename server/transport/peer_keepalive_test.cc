// The peer keepalive policy, both ends: an idle connection between members (followers
// exchange nothing) stays up under pings every 2 s, and the server half is what keeps
// it up: without it gRPC's default policy sends GOAWAY "too_many_pings".
#include "server/transport/peer_keepalive.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server.h>
#include <gtest/gtest.h>

#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::transport {
namespace {

using namespace std::chrono_literals;

// Whether an idle connection to a server (with or without the peer policy) is still the
// same READY connection after `idle`.
bool StaysConnected(bool server_accepts, std::chrono::seconds idle) {
  etcdserverpb::KV::Service kv;  // any service, so the server polls its queue
  grpc::ServerBuilder builder;
  builder.RegisterService(&kv);
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  if (server_accepts) AcceptPeerKeepalive(builder);
  auto server = builder.BuildAndStart();
  EXPECT_NE(server, nullptr);
  grpc::ChannelArguments args;
  SetPeerKeepalive(args);
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args);
  EXPECT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + 5s));
  bool stayed = true;
  for (auto end = std::chrono::steady_clock::now() + idle; std::chrono::steady_clock::now() < end;) {
    if (channel->GetState(false) != GRPC_CHANNEL_READY) stayed = false;
    std::this_thread::sleep_for(50ms);
  }
  server->Shutdown(std::chrono::system_clock::now());
  return stayed;
}

TEST(PeerKeepalive, AnIdleConnectionBetweenMembersStaysUp) { EXPECT_TRUE(StaysConnected(true, 12s)); }

TEST(PeerKeepalive, WithoutTheServerHalfGrpcAnswersThePingsWithGoaway) { EXPECT_FALSE(StaysConnected(false, 12s)); }

}  // namespace
}  // namespace cairn::transport
