#include "operator/etcd/membership_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>

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

// A client URL taken apart: "https://[::1]:2379/x" has scheme "https", authority
// "[::1]:2379" (the gRPC target), host "::1" and port "2379" (empty if the URL has none).
struct Url {
  std::string scheme;
  std::string authority;
  std::string host;
  std::string port;
};

Result<Url> ParseUrl(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return Status::InvalidArgument("endpoint " + url + " has no scheme");
  Url u;
  u.scheme = url.substr(0, sep);
  u.authority = url.substr(sep + 3, url.find('/', sep + 3) - (sep + 3));
  std::string_view rest = u.authority;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("endpoint " + url + ": unclosed '['");
    u.host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return Status::InvalidArgument("endpoint " + url + ": bad port");
  } else {
    u.host = rest.substr(0, rest.find(':'));
    rest.remove_prefix(u.host.size());
  }
  if (!rest.empty()) u.port = rest.substr(1);
  if (u.host.empty()) return Status::InvalidArgument("endpoint " + url + " has no host");
  return u;
}

std::string ChannelKey(const Url& u) { return u.scheme + "://" + u.authority; }

constexpr std::string_view kAuthNotEnabled = "authentication is not enabled";

// etcd's refusals that a new token cures: one that is unknown or expired (simple tokens
// die with the member), one issued before the auth store changed, and none at all (auth
// was off when this client asked for its token). Maintenance calls carry "auth: "
// rather than "etcdserver: " before the same words.
bool RefusedForItsToken(const Status& st) {
  const std::string& m = st.message();
  return m.ends_with(": invalid auth token") || m.ends_with(": revision of auth store is old") ||
         m.ends_with(": user name is empty");
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
  Impl(std::vector<std::string> endpoints, std::chrono::milliseconds timeout, ClientTls tls, ClientAuth auth)
      : endpoints_(std::move(endpoints)), timeout_(timeout), tls_(std::move(tls)), auth_(std::move(auth)) {}

  // The channel to `url`'s member, one per scheme and authority (its key).
  Result<std::shared_ptr<grpc::Channel>> Channel(const std::string& url) {
    auto u = ParseUrl(url);
    if (!u.ok()) return u.status();
    if (u->scheme != "http" && u->scheme != "https") {
      return Status::InvalidArgument("endpoint " + url + ": unsupported scheme (http or https)");
    }
    bool secure = u->scheme == "https";
    if (secure && !tls_.Enabled()) {
      return Status::FailedPrecondition("endpoint " + url + " is https but the client has no CA to verify it with");
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& ch = channels_[ChannelKey(*u)];
    if (!ch) {
      // gRPC's default reconnect backoff grows to minutes, during which calls fail fast;
      // members restart routinely, so keep reconnect attempts frequent.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      // A fixed flow-control window: BDP probing lets a snapshot stream grow it to many
      // MiB of data buffered while a backup uploads a part, and the operator's memory
      // with it. Nothing else the operator reads is bulk.
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
      if (secure) {
        // The target keeps the URL's host, so the member's certificate is checked
        // against that name (a DNS SAN for a DNS name), not a resolved address.
        grpc::SslCredentialsOptions opts;
        opts.pem_root_certs = tls_.ca_pem;
        if (!tls_.cert_pem.empty()) {
          opts.pem_cert_chain = tls_.cert_pem;
          opts.pem_private_key = tls_.key_pem;
        }
        creds = grpc::SslCredentials(opts);
      }
      ch = grpc::CreateCustomChannel(u->authority, creds, args);
    }
    return ch;
  }

  // One unary RPC to `url`'s member. Every call waits for a connection up to its deadline
  // rather than failing fast while the channel backs off: a member that just (re)started
  // is then reachable at once.
  template <typename Stub, typename Req, typename Resp>
  Status Call(const std::string& url, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
              const Req& req, Resp* resp, const std::string& what) {
    auto ch = Channel(url);
    if (!ch.ok()) return ch.status();
    Stub stub(*ch);
    Status last;
    for (bool fresh : {false, true}) {
      auto token = fresh ? Token(url, *ch) : CachedToken(url);
      if (!token.ok()) return token.status();
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
      ctx.set_wait_for_ready(true);
      if (!token->empty()) ctx.AddMetadata("token", *token);
      last = FromGrpc((stub.*rpc)(&ctx, req, resp), what + " " + url);
      if (!auth_.Enabled() || !RefusedForItsToken(last)) break;
    }
    return last;
  }

  // The token `url`'s member issued this client last, or "" (none yet, or auth was off).
  // Calls go with it first: authenticating costs the member a bcrypt check, and most of
  // what the operator asks (MemberList, Status) needs no user.
  Result<std::string> CachedToken(const std::string& url) {
    auto u = ParseUrl(url);
    if (!u.ok()) return u.status();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(ChannelKey(*u));
    return it == tokens_.end() ? std::string() : it->second;
  }

  // A new token from `url`'s member; "" without auth, or when the member has auth off.
  Result<std::string> Token(const std::string& url, const std::shared_ptr<grpc::Channel>& ch) {
    if (!auth_.Enabled()) return std::string();
    auto u = ParseUrl(url);
    if (!u.ok()) return u.status();
    etcdserverpb::Auth::Stub stub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
    ctx.set_wait_for_ready(true);
    pb::AuthenticateRequest req;
    req.set_name(auth_.user);
    req.set_password(auth_.password);
    pb::AuthenticateResponse resp;
    Status st = FromGrpc(stub.Authenticate(&ctx, req, &resp), "Authenticate as " + auth_.user + " at " + url);
    std::string token = resp.token();
    if (st.code() == StatusCode::kFailedPrecondition && st.message().ends_with(kAuthNotEnabled)) {
      token.clear();
    } else if (!st.ok()) {
      return st;
    }
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[ChannelKey(*u)] = token;
    return token;
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

  std::chrono::milliseconds timeout() const { return timeout_; }

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  ClientTls tls_;
  ClientAuth auth_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // guarded by mu_
  std::map<std::string, std::string> tokens_;  // by channel key; guarded by mu_
};

MembershipClient::MembershipClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout,
                                   ClientTls tls, ClientAuth auth)
    : impl_(std::make_unique<Impl>(std::move(endpoints), timeout, std::move(tls), std::move(auth))) {}
MembershipClient::~MembershipClient() = default;

Result<std::vector<MemberInfo>> MembershipClient::List() {
  std::vector<MemberInfo> out;
  Status st = impl_->AnyEndpoint([&](const std::string& ep) {
    pb::MemberListResponse resp;
    Status s = impl_->Call(ep, &pb::Cluster::Stub::MemberList, pb::MemberListRequest(), &resp, "MemberList");
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
    pb::MemberAddRequest req;
    req.add_peerurls(peer_url);
    req.set_islearner(true);
    pb::MemberAddResponse resp;
    Status s = impl_->Call(ep, &pb::Cluster::Stub::MemberAdd, req, &resp, "MemberAdd");
    if (s.ok()) added = FromPb(resp.member());
    return s;
  });
  if (!st.ok()) return st;
  return added;
}

Status MembershipClient::Promote(uint64_t id) {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    pb::MemberPromoteRequest req;
    req.set_id(id);
    pb::MemberPromoteResponse resp;
    return impl_->Call(ep, &pb::Cluster::Stub::MemberPromote, req, &resp, "MemberPromote");
  });
}

Status MembershipClient::UpdatePeerUrls(uint64_t id, const std::vector<std::string>& peer_urls) {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    pb::MemberUpdateRequest req;
    req.set_id(id);
    for (const auto& url : peer_urls) req.add_peerurls(url);
    pb::MemberUpdateResponse resp;
    return impl_->Call(ep, &pb::Cluster::Stub::MemberUpdate, req, &resp, "MemberUpdate");
  });
}

Status MembershipClient::Remove(uint64_t id) {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    pb::MemberRemoveRequest req;
    req.set_id(id);
    pb::MemberRemoveResponse resp;
    return impl_->Call(ep, &pb::Cluster::Stub::MemberRemove, req, &resp, "MemberRemove");
  });
}

Result<EndpointStatus> MembershipClient::StatusOf(const std::string& client_url) {
  pb::StatusResponse resp;
  Status s = impl_->Call(client_url, &pb::Maintenance::Stub::Status, pb::StatusRequest(), &resp, "Status");
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
    // The key etcd's own /health reads: any key serves, the read's round trip is the point.
    pb::RangeRequest req;
    req.set_key("health");
    req.set_keys_only(true);
    req.set_limit(1);
    pb::RangeResponse resp;
    return impl_->Call(ep, &pb::KV::Stub::Range, req, &resp, "linearizable Range");
  });
}

Result<bool> MembershipClient::AuthEnabled() {
  if (!impl_->auth_.Enabled()) return Status::FailedPrecondition("no credentials to tell whether auth is on with");
  bool enabled = false;
  Status st = impl_->AnyEndpoint([&](const std::string& ep) {
    auto ch = impl_->Channel(ep);
    if (!ch.ok()) return ch.status();
    auto token = impl_->Token(ep, *ch);
    if (token.ok()) enabled = !token->empty();
    return token.status();
  });
  if (!st.ok()) return st;
  return enabled;
}

Status MembershipClient::EnableAuth() {
  const ClientAuth& auth = impl_->auth_;
  if (auth.user != "root") {
    return Status::InvalidArgument("turning auth on takes the root user's credentials, not " +
                                   (auth.user.empty() ? std::string("none") : "user " + auth.user));
  }
  return impl_->AnyEndpoint([&](const std::string& ep) {
    pb::AuthUserAddRequest add;
    add.set_name("root");
    add.set_password(auth.password);
    pb::AuthUserAddResponse added;
    Status s = impl_->Call(ep, &pb::Auth::Stub::UserAdd, add, &added, "UserAdd root");
    if (!s.ok() && !s.message().ends_with("user name already exists")) return s;
    pb::AuthUserGrantRoleRequest grant;
    grant.set_user("root");
    grant.set_role("root");
    pb::AuthUserGrantRoleResponse granted;
    CAIRN_RETURN_IF_ERROR(impl_->Call(ep, &pb::Auth::Stub::UserGrantRole, grant, &granted, "UserGrantRole root root"));
    pb::AuthEnableResponse enabled;
    return impl_->Call(ep, &pb::Auth::Stub::AuthEnable, pb::AuthEnableRequest(), &enabled, "AuthEnable");
  });
}

Status MembershipClient::DisableAuth() {
  return impl_->AnyEndpoint([&](const std::string& ep) {
    pb::AuthDisableResponse disabled;
    return impl_->Call(ep, &pb::Auth::Stub::AuthDisable, pb::AuthDisableRequest(), &disabled, "AuthDisable");
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
    pb::MoveLeaderRequest req;
    req.set_targetid(to);
    pb::MoveLeaderResponse resp;
    return impl_->Call(m.client_urls.front(), &pb::Maintenance::Stub::MoveLeader, req, &resp, "MoveLeader");
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

Result<TlsProbe> MembershipClient::ProbeTls(const std::string& https_url, const ClientTls& as) {
  auto u = ParseUrl(https_url);
  if (!u.ok()) return u.status();
  if (u->scheme != "https") return Status::InvalidArgument("probing " + https_url + ": not an https URL");
  auto probe = op::ProbeTls(u->host, u->port.empty() ? "443" : u->port, as, impl_->timeout_);
  if (!probe.ok()) return Status(probe.status().code(), "probing " + https_url + ": " + probe.status().message());
  return probe;
}

Result<std::string> MembershipClient::ServedCertificate(const std::string& https_url) {
  auto probe = ProbeTls(https_url, impl_->tls_);
  if (!probe.ok()) return probe.status();
  return probe->served_pem;
}

namespace {

class GrpcSnapshotStream : public SnapshotStream {
 public:
  GrpcSnapshotStream(const std::shared_ptr<grpc::Channel>& channel, std::string url, std::chrono::seconds limit,
                     const std::string& token)
      : stub_(channel), url_(std::move(url)) {
    ctx_.set_deadline(std::chrono::system_clock::now() + limit);
    if (!token.empty()) ctx_.AddMetadata("token", token);
    reader_ = stub_.Snapshot(&ctx_, pb::SnapshotRequest());
  }
  ~GrpcSnapshotStream() override {
    if (!finished_) {
      ctx_.TryCancel();
      pb::SnapshotResponse drain;
      while (reader_->Read(&drain)) {
      }
      (void)reader_->Finish();
    }
  }

  Result<size_t> Read(char* buf, size_t cap) override {
    while (pos_ == chunk_.size()) {
      if (finished_) return size_t{0};
      pb::SnapshotResponse resp;
      if (!reader_->Read(&resp)) {
        finished_ = true;
        CAIRN_RETURN_IF_ERROR(FromGrpc(reader_->Finish(), "Snapshot " + url_));
        CAIRN_RETURN_IF_ERROR(digest_.Finish());
        return size_t{0};
      }
      if (revision_ == 0) {
        revision_ = resp.header().revision();
        member_id_ = resp.header().member_id();
      }
      chunk_ = std::move(*resp.mutable_blob());
      pos_ = 0;
      digest_.Add(chunk_.data(), chunk_.size());
    }
    const size_t n = std::min(cap, chunk_.size() - pos_);
    std::memcpy(buf, chunk_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  int64_t revision() const override { return revision_; }
  uint64_t member_id() const override { return member_id_; }
  const SnapshotDigest& digest() const override { return digest_; }
  void Cancel() override { ctx_.TryCancel(); }

 private:
  pb::Maintenance::Stub stub_;
  std::string url_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<pb::SnapshotResponse>> reader_;
  std::string chunk_;
  size_t pos_ = 0;
  bool finished_ = false;
  int64_t revision_ = 0;
  uint64_t member_id_ = 0;
  SnapshotDigest digest_;
};

}  // namespace

Result<std::unique_ptr<SnapshotStream>> MembershipClient::OpenSnapshot(const std::string& client_url,
                                                                       std::chrono::seconds limit) {
  auto ch = impl_->Channel(client_url);
  if (!ch.ok()) return ch.status();
  // The stream's own deadline is long (a big store takes minutes); reaching the member is
  // bounded by the client's usual timeout, so an unreachable one is skipped quickly.
  if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() + impl_->timeout())) {
    return Status::Unavailable("Snapshot " + client_url + ": cannot connect");
  }
  auto token = impl_->Token(client_url, *ch);
  if (!token.ok()) return token.status();
  return std::unique_ptr<SnapshotStream>(std::make_unique<GrpcSnapshotStream>(*ch, client_url, limit, *token));
}

Result<std::unique_ptr<EventWatch>> MembershipClient::OpenWatch(const std::string& client_url,
                                                                int64_t start_revision) {
  auto ch = impl_->Channel(client_url);
  if (!ch.ok()) return ch.status();
  if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() + impl_->timeout())) {
    return Status::Unavailable("Watch " + client_url + ": cannot connect");
  }
  auto token = impl_->Token(client_url, *ch);
  if (!token.ok()) return token.status();
  return StartEventWatch(*ch, client_url, start_revision, *token);
}

Result<KvHash> MembershipClient::HashKV(const std::string& client_url, int64_t revision) {
  pb::HashKVRequest req;
  req.set_revision(revision);
  pb::HashKVResponse resp;
  Status s = impl_->Call(client_url, &pb::Maintenance::Stub::HashKV, req, &resp, "HashKV");
  if (!s.ok()) return s;
  return KvHash{resp.hash(), resp.compact_revision(), resp.header().revision()};
}

}  // namespace cairn::op
