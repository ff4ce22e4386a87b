// Test fixture: one in-process Cairn member behind its real gRPC client server, and a
// channel to it. For tests of the gRPC services.
#pragma once

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "server/api/client_server.h"
#include "server/common/test_dir.h"

namespace cairn::api {

inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class MemberFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    etcdserver::ServerOptions o;
    o.name = "m1";
    o.data_dir.root = dir_.Join("data");
    o.initial_cluster = {{"m1", {"http://127.0.0.1:2380"}}};
    auto server = etcdserver::EtcdServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server.value());
    const std::string endpoint = "127.0.0.1:" + std::to_string(FreePort());
    auto clients = ClientServer::Start(server_.get(), {"http://" + endpoint});
    ASSERT_TRUE(clients.ok()) << clients.status().ToString();
    clients_ = std::move(clients.value());
    channel_ = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (clients_) clients_->Shutdown();
  }

  int64_t GrantLease(int64_t id) {
    cairnpb::RaftRequest grant;
    grant.mutable_lease_grant()->set_id(id);
    grant.mutable_lease_grant()->set_ttl(60);
    EXPECT_TRUE(server_->Propose(grant).ok());
    return id;
  }

  TempDir dir_;
  std::unique_ptr<etcdserver::EtcdServer> server_;
  std::unique_ptr<ClientServer> clients_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cairn::api
