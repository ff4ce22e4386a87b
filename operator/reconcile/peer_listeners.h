// PeerListeners: where a member pod listens for its peers and which of those endpoints
// it advertises, and how the operator moves a running cluster between plaintext and TLS
// peer traffic without losing quorum.
//
// A gRPC port is either TLS or plaintext, so a member cannot serve both on 2380. The
// move goes the way etcd documents a peer URL change, over a second port:
//   1. every pod listens on both endpoints, the old one still advertised: the pod
//      template gains the second listener (and the peer certificates), rolled out one
//      member at a time like any template change;
//   2. each member's peer URL is moved to the new endpoint through the Cluster API
//      (MemberUpdate), one member per step; peers dial it there from then on;
//   3. once every member advertises the new endpoint, the template drops the old one and
//      advertises the new one (a second rollout).
// The ports alternate between naming::kPeerPort and naming::kPeerPortAlternate, so a
// cluster turned to TLS and back ends on the other port each time. A spec reverted
// half-way moves the members back first; a template never drops an endpoint a member
// still advertises.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"

namespace cairn::op {

struct ObservedState;

struct PeerEndpoint {
  bool tls = false;
  int port = 0;

  bool operator==(const PeerEndpoint&) const = default;
  std::string Scheme() const { return tls ? "https" : "http"; }
  // "https:2382", the form the pod template's environment carries.
  std::string ToString() const;
  static std::optional<PeerEndpoint> Parse(const std::string& scheme_port);
};

struct PeerListeners {
  PeerEndpoint advertised;
  std::optional<PeerEndpoint> also;  // the second listener while members move (steps 1-2)
  // With a TLS endpoint: the Secret the peer certificate is mounted from, and whether
  // members check a peer's address against its certificate (etcd's SAN check, skipped
  // for the operator's wildcard certificates).
  std::string tls_secret;
  bool check_peer_san = false;

  bool operator==(const PeerListeners&) const = default;
  bool AnyTls() const { return advertised.tls || (also && also->tls); }
  // The endpoint members are moving to, or nullopt when no move is under way.
  std::optional<PeerEndpoint> MovingTo(bool want_tls) const;
};

// What a new cluster's template listens on: spec.tls.peer on 2380.
PeerListeners InitialPeerListeners(const ClusterSpec& spec);

// The pod template's peer listeners for this pass: `live` is the current template's
// (nullopt: none yet), `advertised` the endpoint each member advertises in the member
// list (nullopt: the member list is unknown, and nothing changes).
PeerListeners DesiredPeerListeners(const ClusterSpec& spec, const std::optional<PeerListeners>& live,
                                   const std::optional<std::vector<PeerEndpoint>>& advertised);

// The same, from an observation: its StatefulSet's template and its member list.
PeerListeners DesiredPeerListeners(const ClusterSpec& spec, const ObservedState& observed);

// The endpoint of a member's peer URL if it is one the operator gives (its pod's DNS
// name under the peer Service, on 2380 or 2382), with the member's ordinal.
struct MemberPeerAddress {
  int ordinal = -1;
  PeerEndpoint endpoint;
};
std::optional<MemberPeerAddress> ParseMemberPeerUrl(const ClusterSpec& spec, const std::string& peer_url);

}  // namespace cairn::op
