#include "operator/etcd/membership_client.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::op {
namespace {

namespace pb = etcdserverpb;

Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  auto code = static_cast<StatusCode>(s.error_code());
  // etcd reports "learner not ready" as FailedPrecondition already; keep codes 1:1.
  return Status(code, what + ": " + s.error_message());
}

std::string Target(const std::string& url) {
  std::string t = url;
  for (const char* scheme : {"http://", "https://", "unix://"}) {
    if (t.rfind(scheme, 0) == 0) t = t.substr(std::string(scheme).size());
  }
  if (auto slash = t.find('/'); slash != std::string::npos) t = t.substr(0, slash);
  return t;
}

MemberInfo FromPb(const pb::Member& m) {
  MemberInfo out;
  out.id = m.id();
  out.name = m.name();
  out.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
  out.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
  out.is_learner = m.islearner();
  return out;
}

}  // namespace

class MembershipClient::Impl {
 public:
  Impl(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
      : endpoints_(std::move(endpoints)), timeout_(timeout) {}

  std::shared_ptr<grpc::Channel> Channel(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& ch = channels_[Target(url)];
    if (!ch) {
      // gRPC's default reconnect backoff grows to minutes, during which calls fail fast;
      // members restart routinely, so keep reconnect attempts frequent.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      ch = grpc::CreateCustomChannel(Target(url), grpc::InsecureChannelCredentials(), args);
    }
    return ch;
  }

  // Every call waits for a connection up to its deadline rather than failing fast while
  // the channel backs off: a member that just (re)started is then reachable at once.
  void Deadline(grpc::ClientContext* ctx) const {
    ctx->set_deadline(std::chrono::system_clock::now() + timeout_);
    ctx->set_wait_for_ready(true);
  }

  // Runs `call` against each endpoint until one answers with something other than
  // Unavailable/DeadlineExceeded (those mean "try another member").
  template <typename F>
  Status AnyEndpoint(F&& call) {
    Status last = Status::Unavailable("no endpoints");
    for (const auto& ep : endpoints_) {
      last = call(ep);
      if (last.code() != StatusCode::kUnavailable && last.code() != StatusCode::kDeadlineExceeded) return last;
    }
    return last;
  }

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;  // guards channels_
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

MembershipClient::MembershipClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(endpoints), timeout)) {}
MembershipClient::~MembershipClient() = default;

Result<std::vector<MemberInfo>> MembershipClient::List() {
  std::vector<MemberInfo> out;
  Status st = impl_->AnyEndpoint([&](const std::string& ep) {
    auto stub = pb::Cluster::NewStub(impl_->Channel(ep));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    pb::MemberListRequest req;
    pb::MemberListResponse resp;
    Status s = FromGrpc(stub->MemberList(&ctx, req, &resp), "MemberList " + ep);
    if (s.ok()) {
      out.clear();
      for (const auto& m : resp.members()) out.push_back(FromPb(m));
    }
    return s;
  });
  if (!st.ok()) return st;
  return out;
}

Result<MemberInfo> MembershipClient::AddLearner(const std::string& peer_url) {
  MemberInfo added;
  Status st = impl_->AnyEndpoint([&](const std::string& ep) {
    auto stub = pb::Cluster::NewStub(impl_->Channel(ep));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    pb::MemberAddRequest req;
    req.add_peerurls(peer_url);
    req.set_islearner(true);
    pb::MemberAddResponse resp;
    Status s = FromGrpc(stub->MemberAdd(&ctx, req, &resp), "MemberAdd " + ep);
    if (s.ok()) added = FromPb(resp.member());
    return s;
  });
  if (!st.ok()) return st;
  return added;
}

Status MembershipClient::Promote(uint64_t id) {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    auto stub = pb::Cluster::NewStub(impl_->Channel(ep));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    pb::MemberPromoteRequest req;
    req.set_id(id);
    pb::MemberPromoteResponse resp;
    return FromGrpc(stub->MemberPromote(&ctx, req, &resp), "MemberPromote " + ep);
  });
}

Status MembershipClient::Remove(uint64_t id) {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    auto stub = pb::Cluster::NewStub(impl_->Channel(ep));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    pb::MemberRemoveRequest req;
    req.set_id(id);
    pb::MemberRemoveResponse resp;
    return FromGrpc(stub->MemberRemove(&ctx, req, &resp), "MemberRemove " + ep);
  });
}

Result<EndpointStatus> MembershipClient::StatusOf(const std::string& client_url) {
  auto stub = pb::Maintenance::NewStub(impl_->Channel(client_url));
  grpc::ClientContext ctx;
  impl_->Deadline(&ctx);
  pb::StatusRequest req;
  pb::StatusResponse resp;
  Status s = FromGrpc(stub->Status(&ctx, req, &resp), "Status " + client_url);
  if (!s.ok()) return s;
  EndpointStatus out;
  out.member_id = resp.header().member_id();
  out.leader = resp.leader();
  out.raft_index = resp.raftindex();
  out.raft_applied_index = resp.raftappliedindex();
  out.is_learner = resp.islearner();
  out.version = resp.version();
  out.errors.assign(resp.errors().begin(), resp.errors().end());
  return out;
}

Status MembershipClient::LinearizableRead() {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    auto stub = pb::KV::NewStub(impl_->Channel(ep));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    // The key etcd's own /health reads: any key serves, the read's round trip is the point.
    pb::RangeRequest req;
    req.set_key("health");
    req.set_keys_only(true);
    req.set_limit(1);
    pb::RangeResponse resp;
    return FromGrpc(stub->Range(&ctx, req, &resp), "linearizable Range " + ep);
  });
}

Status MembershipClient::MoveLeader(uint64_t to) {
  auto members = List();
  if (!members.ok()) return members.status();
  uint64_t leader = 0;
  for (const auto& m : *members) {
    if (m.client_urls.empty()) continue;
    auto st = StatusOf(m.client_urls.front());
    if (st.ok() && st->leader != 0) {
      leader = st->leader;
      break;
    }
  }
  if (leader == 0) return Status::Unavailable("MoveLeader: no member knows a leader");
  if (leader == to) return Status::Ok();
  for (const auto& m : *members) {
    if (m.id != leader || m.client_urls.empty()) continue;
    auto stub = pb::Maintenance::NewStub(impl_->Channel(m.client_urls.front()));
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    pb::MoveLeaderRequest req;
    req.set_targetid(to);
    pb::MoveLeaderResponse resp;
    return FromGrpc(stub->MoveLeader(&ctx, req, &resp), "MoveLeader");
  }
  return Status::Unavailable("MoveLeader: leader has no client URL");
}

Result<std::vector<MemberState>> MembershipClient::Observe() {
  auto members = List();
  if (!members.ok()) return members.status();
  std::vector<MemberState> out;
  uint64_t leader = 0;
  for (const auto& m : *members) {
    MemberState s;
    s.id = m.id;
    s.name = m.name;
    s.peer_url = m.peer_urls.empty() ? "" : m.peer_urls.front();
    s.is_learner = m.is_learner;
    if (!m.client_urls.empty()) {
      auto st = StatusOf(m.client_urls.front());
      if (st.ok() && st->member_id == m.id) {
        s.healthy = st->errors.empty();
        s.errors = st->errors;
        s.raft_index = st->raft_index;
        s.applied_index = st->raft_applied_index;
        s.api_version = st->version;
        if (st->leader != 0) leader = st->leader;
      }
    }
    out.push_back(std::move(s));
  }
  for (auto& s : out) s.is_leader = s.id == leader && s.healthy;
  return out;
}

}  // namespace cairn::op
