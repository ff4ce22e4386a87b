// Keepalive between members, with both ends agreeing on it. A member pings each peer it
// dials every kPeerPingInterval, with or without a call in flight, to notice a peer that
// vanished without closing the connection; every member's peer server accepts pings that
// often. Without the server half, gRPC's default policy (a ping without data at most
// every 5 minutes, 2 strikes) answered the idle connections between followers, and
// those to a paused and resumed member, with GOAWAY "too_many_pings", so they were torn
// down and redialed over and over.
// Thread-safety: stateless.
#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>

namespace cairn::transport {

inline constexpr std::chrono::milliseconds kPeerPingInterval{2000};
inline constexpr std::chrono::milliseconds kPeerPingTimeout{2000};

// For channels to peers: ping every kPeerPingInterval, drop after kPeerPingTimeout.
void SetPeerKeepalive(grpc::ChannelArguments& args);
// For the peer server: accept those pings (anything no more often than half the
// interval), without calls and without data.
void AcceptPeerKeepalive(grpc::ServerBuilder& builder);

}  // namespace cairn::transport
