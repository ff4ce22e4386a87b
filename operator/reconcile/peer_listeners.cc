#include "operator/reconcile/peer_listeners.h"

#include <algorithm>
#include <charconv>

#include "operator/api/naming.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {
namespace {

int OtherPort(int port) { return port == naming::kPeerPortAlternate ? naming::kPeerPort : naming::kPeerPortAlternate; }

// The TLS settings of a template whose spec.tls.peer is on; with it off, the live
// template's are kept for as long as a TLS endpoint remains.
void SetTls(const ClusterSpec& spec, const std::optional<PeerListeners>& live, PeerListeners* out) {
  out->tls_secret.clear();
  out->check_peer_san = false;
  if (!out->AnyTls()) return;
  if (!spec.tls.peer.enabled && live && live->AnyTls()) {
    out->tls_secret = live->tls_secret;
    out->check_peer_san = live->check_peer_san;
    return;
  }
  // With spec.tls.peer off and no template to go by, the operator's own peer Secret.
  out->tls_secret = TlsSecretName(spec, "peer");
  out->check_peer_san = spec.tls.peer.provided;
}

}  // namespace

std::string PeerEndpoint::ToString() const { return Scheme() + ":" + std::to_string(port); }

std::optional<PeerEndpoint> PeerEndpoint::Parse(const std::string& scheme_port) {
  const auto colon = scheme_port.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string scheme = scheme_port.substr(0, colon);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  PeerEndpoint e{scheme == "https", 0};
  const char* end = scheme_port.data() + scheme_port.size();
  auto [p, ec] = std::from_chars(scheme_port.data() + colon + 1, end, e.port);
  if (ec != std::errc() || p != end || e.port <= 0 || e.port > 65535) return std::nullopt;
  return e;
}

std::optional<PeerEndpoint> PeerListeners::MovingTo(bool want_tls) const {
  if (!also) return std::nullopt;
  return advertised.tls == want_tls ? advertised : *also;
}

PeerListeners InitialPeerListeners(const ClusterSpec& spec) {
  PeerListeners out{{spec.tls.peer.enabled, naming::kPeerPort}, std::nullopt, "", false};
  SetTls(spec, std::nullopt, &out);
  return out;
}

PeerListeners DesiredPeerListeners(const ClusterSpec& spec, const std::optional<PeerListeners>& live,
                                   const std::optional<std::vector<PeerEndpoint>>& advertised) {
  const bool want = spec.tls.peer.enabled;
  if (!live) {
    // A StatefulSet re-created under running members listens where they are reached.
    std::vector<PeerEndpoint> seen;
    for (const auto& e : advertised.value_or(std::vector<PeerEndpoint>{})) {
      if (std::find(seen.begin(), seen.end(), e) == seen.end()) seen.push_back(e);
    }
    if (seen.empty() || seen.size() > 2) return InitialPeerListeners(spec);
    PeerListeners out{seen[0], std::nullopt, "", false};
    if (seen.size() == 2) out.also = seen[1];
    SetTls(spec, std::nullopt, &out);
    return out;
  }
  PeerListeners out = *live;
  if (!live->also) {
    // Step 1: a second listener on the other port, with the wanted transport.
    if (live->advertised.tls != want) out.also = PeerEndpoint{want, OtherPort(live->advertised.port)};
  } else if (advertised) {
    const PeerEndpoint target = *live->MovingTo(want);
    const bool all_moved = std::all_of(advertised->begin(), advertised->end(),
                                       [&](const PeerEndpoint& e) { return e == target; });
    // Step 3: once no member advertises the endpoint being left, it goes.
    if (all_moved) out = PeerListeners{target, std::nullopt, "", false};
  }
  SetTls(spec, live, &out);
  return out;
}

PeerListeners DesiredPeerListeners(const ClusterSpec& spec, const ObservedState& observed) {
  std::optional<PeerListeners> live;
  if (observed.stateful_set.exists) live = observed.stateful_set.peer;
  std::optional<std::vector<PeerEndpoint>> advertised;
  if (observed.members) {
    advertised.emplace();
    for (const auto& m : *observed.members) {
      if (auto a = ParseMemberPeerUrl(spec, m.peer_url)) advertised->push_back(a->endpoint);
    }
  }
  return DesiredPeerListeners(spec, live, advertised);
}

std::optional<MemberPeerAddress> ParseMemberPeerUrl(const ClusterSpec& spec, const std::string& peer_url) {
  auto ord = naming::OrdinalFromPeerUrl(spec.name, peer_url);
  if (!ord) return std::nullopt;
  for (bool tls : {false, true}) {
    for (int port : {naming::kPeerPort, naming::kPeerPortAlternate}) {
      if (peer_url == naming::PeerUrl(spec.name, spec.namespace_, *ord, tls, port)) {
        return MemberPeerAddress{*ord, PeerEndpoint{tls, port}};
      }
    }
  }
  return std::nullopt;
}

}  // namespace cairn::op
