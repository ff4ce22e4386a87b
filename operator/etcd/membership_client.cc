#include "operator/etcd/membership_client.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::op {
namespace {

namespace pb = etcdserverpb;
using SteadyClock = std::chrono::steady_clock;

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

// C objects owned by unique_ptr, freed with their library's function.
template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, FreeWith<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, FreeWith<SSL_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;

// `what` followed by the reasons on this thread's OpenSSL error queue, which it empties.
std::string OpensslError(std::string what) {
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    what += std::string(": ") + buf;
  }
  return what;
}

BioPtr PemBio(const std::string& pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// A client context that verifies the peer against tls.ca_pem and presents tls.cert_pem
// (leaf first, then any intermediates) with tls.key_pem when a certificate is given.
Result<SslCtxPtr> TlsContext(const ClientTls& tls) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Internal(OpensslError("SSL_CTX_new"));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  BioPtr ca = PemBio(tls.ca_pem);
  int cas = 0;
  for (X509Ptr c(PEM_read_bio_X509(ca.get(), nullptr, nullptr, nullptr)); c;
       c.reset(PEM_read_bio_X509(ca.get(), nullptr, nullptr, nullptr)), ++cas) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), c.get()) != 1) {
      return Status::InvalidArgument(OpensslError("ClientTls.ca_pem"));
    }
  }
  ERR_clear_error();  // the read past the last certificate
  if (cas == 0) return Status::InvalidArgument("ClientTls.ca_pem holds no certificate");
  if (tls.cert_pem.empty()) return ctx;
  BioPtr chain = PemBio(tls.cert_pem);
  X509Ptr leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    return Status::InvalidArgument(OpensslError("ClientTls.cert_pem"));
  }
  for (X509Ptr c(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)); c;
       c.reset(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr))) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), c.get()) != 1) {
      return Status::InvalidArgument(OpensslError("ClientTls.cert_pem"));
    }
  }
  ERR_clear_error();
  BioPtr key_bio = PemBio(tls.key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Status::InvalidArgument(OpensslError("ClientTls.key_pem"));
  }
  return ctx;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Waits until `fd` is ready for `events` (or has an error the next call reports).
Status Await(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return Status(StatusCode::kDeadlineExceeded, "deadline exceeded");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return Status::Unavailable(Errno("poll"));
  }
}

// Closes a socket on scope exit.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { if (fd_ >= 0) close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A non-blocking TCP connection to the first of host's addresses that accepts one.
Result<std::unique_ptr<Socket>> Dial(const std::string& host, const std::string& port,
                                     SteadyClock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("resolving " + host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, FreeWith<freeaddrinfo>> addrs(found);
  Status last = Status::Unavailable("no address for " + host);
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    auto s = std::make_unique<Socket>(
        socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (s->fd() < 0) {
      last = Status::Unavailable(Errno("socket"));
      continue;
    }
    if (connect(s->fd(), a->ai_addr, a->ai_addrlen) == 0) return s;
    if (errno != EINPROGRESS) {
      last = Status::Unavailable(Errno("connect " + host + ":" + port));
      continue;
    }
    last = Await(s->fd(), POLLOUT, deadline);
    if (last.code() == StatusCode::kDeadlineExceeded) return last;
    if (!last.ok()) continue;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return s;
    errno = err;
    last = Status::Unavailable(Errno("connect " + host + ":" + port));
  }
  return last;
}

// Sends what OpenSSL wrote to `out` over `fd`. MSG_NOSIGNAL: a member that resets the
// connection must not raise SIGPIPE in the operator (hence memory BIOs, not a socket BIO).
Status Flush(int fd, BIO* out, SteadyClock::time_point deadline) {
  char buf[16384];
  for (int n = BIO_read(out, buf, sizeof buf); n > 0; n = BIO_read(out, buf, sizeof buf)) {
    for (int sent = 0; sent < n;) {
      ssize_t w = send(fd, buf + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w >= 0) {
        sent += static_cast<int>(w);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        CAIRN_RETURN_IF_ERROR(Await(fd, POLLOUT, deadline));
      } else if (errno != EINTR) {
        return Status::Unavailable(Errno("send"));
      }
    }
  }
  return Status::Ok();
}

// The certificate the peer on `fd` serves, as PEM, after a handshake that verifies it
// for `host`.
Result<std::string> PeerCertificate(SSL_CTX* ctx, int fd, const std::string& host, SteadyClock::time_point deadline) {
  SslPtr ssl(SSL_new(ctx));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!ssl || in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return Status::Internal(OpensslError("SSL_new"));
  }
  BIO_set_mem_eof_return(in, -1);  // no data yet is "retry", not end of stream
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both
  unsigned char ip[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) {
    // No SNI for an address (RFC 6066); the certificate must name it in an IP SAN.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    SSL_set1_host(ssl.get(), host.c_str());
  }
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(ssl.get());
    int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl.get(), r);
    Status sent = Flush(fd, out, deadline);  // the next flight, or the alert that ends the handshake
    if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
      long verify = SSL_get_verify_result(ssl.get());
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : OpensslError("failed");
      return Status::Unavailable("TLS handshake: " + why);
    }
    CAIRN_RETURN_IF_ERROR(sent);
    if (err == SSL_ERROR_NONE) break;
    CAIRN_RETURN_IF_ERROR(Await(fd, POLLIN, deadline));
    char buf[16384];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return Status::Unavailable("connection closed during the TLS handshake");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Status::Unavailable(Errno("recv"));
    if (n > 0) BIO_write(in, buf, static_cast<int>(n));
  }
  X509Ptr served(SSL_get1_peer_certificate(ssl.get()));
  BioPtr pem(BIO_new(BIO_s_mem()));
  if (!served || !pem || PEM_write_bio_X509(pem.get(), served.get()) != 1) {
    return Status::Internal(OpensslError("writing the served certificate"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(pem.get(), &data);
  return std::string(data, static_cast<size_t>(len));
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
  Impl(std::vector<std::string> endpoints, std::chrono::milliseconds timeout, ClientTls tls)
      : endpoints_(std::move(endpoints)), timeout_(timeout), tls_(std::move(tls)) {}

  // The channel to `url`'s member, one per scheme and authority.
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
    auto& ch = channels_[u->scheme + "://" + u->authority];
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
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
    ctx.set_wait_for_ready(true);
    return FromGrpc((stub.*rpc)(&ctx, req, resp), what + " " + url);
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
  std::mutex mu_;  // guards channels_
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

MembershipClient::MembershipClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout,
                                   ClientTls tls)
    : impl_(std::make_unique<Impl>(std::move(endpoints), timeout, std::move(tls))) {}
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

Result<std::string> MembershipClient::ServedCertificate(const std::string& https_url) {
  auto deadline = SteadyClock::now() + impl_->timeout_;
  auto u = ParseUrl(https_url);
  if (!u.ok()) return u.status();
  if (u->scheme != "https") return Status::InvalidArgument("ServedCertificate: " + https_url + " is not an https URL");
  if (!impl_->tls_.Enabled()) {
    return Status::FailedPrecondition("ServedCertificate " + https_url + ": the client has no CA to verify it with");
  }
  auto pem = [&]() -> Result<std::string> {
    auto ctx = TlsContext(impl_->tls_);
    if (!ctx.ok()) return ctx.status();
    auto sock = Dial(u->host, u->port.empty() ? "443" : u->port, deadline);
    if (!sock.ok()) return sock.status();
    return PeerCertificate(ctx->get(), (*sock)->fd(), u->host, deadline);
  }();
  if (!pem.ok()) return Status(pem.status().code(), "ServedCertificate " + https_url + ": " + pem.status().message());
  return pem;
}

namespace {

class GrpcSnapshotStream : public SnapshotStream {
 public:
  GrpcSnapshotStream(const std::shared_ptr<grpc::Channel>& channel, std::string url, std::chrono::seconds limit)
      : stub_(channel), url_(std::move(url)) {
    ctx_.set_deadline(std::chrono::system_clock::now() + limit);
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
  return std::unique_ptr<SnapshotStream>(std::make_unique<GrpcSnapshotStream>(*ch, client_url, limit));
}

Result<std::unique_ptr<EventWatch>> MembershipClient::OpenWatch(const std::string& client_url,
                                                                int64_t start_revision) {
  auto ch = impl_->Channel(client_url);
  if (!ch.ok()) return ch.status();
  if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() + impl_->timeout())) {
    return Status::Unavailable("Watch " + client_url + ": cannot connect");
  }
  return StartEventWatch(*ch, client_url, start_revision);
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
