#include "operator/controller/membership.h"

#include "operator/etcd/membership_client.h"

namespace cairn::op {
namespace {

class EtcdMembership : public Membership {
 public:
  EtcdMembership(std::vector<std::string> endpoints, std::chrono::milliseconds timeout, ClientTls tls, ClientAuth auth)
      : client_(std::move(endpoints), timeout, std::move(tls), std::move(auth)) {}
  Result<std::vector<MemberState>> Observe() override { return client_.Observe(); }
  Status AddLearner(const std::string& peer_url) override {
    auto r = client_.AddLearner(peer_url);
    return r.ok() ? Status::Ok() : r.status();
  }
  Status UpdatePeerUrl(uint64_t id, const std::string& peer_url) override { return client_.UpdatePeerUrls(id, {peer_url}); }
  Status Promote(uint64_t id) override { return client_.Promote(id); }
  Status Remove(uint64_t id) override { return client_.Remove(id); }
  Status MoveLeader(uint64_t to) override { return client_.MoveLeader(to); }
  Status LinearizableRead() override { return client_.LinearizableRead(); }
  Result<TlsProbe> ProbeTls(const std::string& https_url, const ClientTls& as) override {
    return client_.ProbeTls(https_url, as);
  }
  Result<bool> AuthEnabled() override { return client_.AuthEnabled(); }
  Status EnableAuth() override { return client_.EnableAuth(); }
  Status DisableAuth() override { return client_.DisableAuth(); }

 private:
  MembershipClient client_;
};

}  // namespace

MembershipFactory EtcdMembershipFactory(std::chrono::milliseconds timeout) {
  return [timeout](const ClusterSpec&, const std::vector<std::string>& endpoints,
                   const ClientTls& tls, const ClientAuth& auth) -> std::unique_ptr<Membership> {
    return std::make_unique<EtcdMembership>(endpoints, timeout, tls, auth);
  };
}

}  // namespace cairn::op
