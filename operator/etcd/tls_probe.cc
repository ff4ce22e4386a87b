#include "operator/etcd/tls_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace cairn::op {
namespace {

using SteadyClock = std::chrono::steady_clock;

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

// Moves bytes from the socket into OpenSSL's input BIO; Unavailable when the member
// closed the connection.
Status Receive(int fd, BIO* in, SteadyClock::time_point deadline) {
  CAIRN_RETURN_IF_ERROR(Await(fd, POLLIN, deadline));
  char buf[16384];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n == 0) return Status::Unavailable("the member closed the connection");
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Status::Unavailable(Errno("recv"));
  if (n > 0) BIO_write(in, buf, static_cast<int>(n));
  return Status::Ok();
}

// A TLS client session over memory BIOs on `fd`, so every byte goes through Flush and
// Receive (deadlines, no SIGPIPE).
class Session {
 public:
  static Result<std::unique_ptr<Session>> Start(SSL_CTX* ctx, int fd, const std::string& host) {
    auto s = std::unique_ptr<Session>(new Session(fd));
    s->ssl_.reset(SSL_new(ctx));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (!s->ssl_ || in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      return Status::Internal(OpensslError("SSL_new"));
    }
    BIO_set_mem_eof_return(in, -1);  // no data yet is "retry", not end of stream
    SSL_set_bio(s->ssl_.get(), in, out);  // ssl owns both
    // gRPC closes a TLS connection that did not negotiate HTTP/2 by ALPN.
    static constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
    if (SSL_set_alpn_protos(s->ssl_.get(), kAlpnH2, sizeof kAlpnH2) != 0) {
      return Status::Internal(OpensslError("SSL_set_alpn_protos"));
    }
    s->in_ = in;
    s->out_ = out;
    unsigned char ip[sizeof(in6_addr)];
    if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) {
      // No SNI for an address (RFC 6066); the certificate must name it in an IP SAN.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_.get()), host.c_str());
    } else {
      SSL_set_tlsext_host_name(s->ssl_.get(), host.c_str());
      SSL_set1_host(s->ssl_.get(), host.c_str());
    }
    return s;
  }

  // The handshake, with the served certificate verified.
  Status Handshake(SteadyClock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      int r = SSL_connect(ssl_.get());
      int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), r);
      Status sent = Flush(fd_, out_, deadline);  // the next flight, or the alert that ends the handshake
      if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
        long verify = SSL_get_verify_result(ssl_.get());
        std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : OpensslError("failed");
        return Status::Unavailable("TLS handshake: " + why);
      }
      CAIRN_RETURN_IF_ERROR(sent);
      if (err == SSL_ERROR_NONE) return Status::Ok();
      CAIRN_RETURN_IF_ERROR(Receive(fd_, in_, deadline));
    }
  }

  Result<std::string> ServedPem() {
    X509Ptr served(SSL_get1_peer_certificate(ssl_.get()));
    BioPtr pem(BIO_new(BIO_s_mem()));
    if (!served || !pem || PEM_write_bio_X509(pem.get(), served.get()) != 1) {
      return Status::Internal(OpensslError("writing the served certificate"));
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(pem.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  }

  // Sends the HTTP/2 preface and an empty SETTINGS frame, then waits for the member's
  // first application bytes (its SETTINGS). Ok: the member took the client certificate.
  // Unavailable with the alert's reason: it did not.
  Status ExchangeHttp2Preface(SteadyClock::time_point deadline) {
    static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";
    ERR_clear_error();
    if (SSL_write(ssl_.get(), kPreface, sizeof kPreface - 1) <= 0) {
      return Status::Unavailable(OpensslError("sending the HTTP/2 preface"));
    }
    CAIRN_RETURN_IF_ERROR(Flush(fd_, out_, deadline));
    for (;;) {
      char buf[256];
      ERR_clear_error();
      int r = SSL_read(ssl_.get(), buf, sizeof buf);
      if (r > 0) return Status::Ok();
      int err = SSL_get_error(ssl_.get(), r);
      CAIRN_RETURN_IF_ERROR(Flush(fd_, out_, deadline));
      if (err != SSL_ERROR_WANT_READ) return Status::Unavailable(OpensslError("refused"));
      CAIRN_RETURN_IF_ERROR(Receive(fd_, in_, deadline));
    }
  }

 private:
  explicit Session(int fd) : fd_(fd) {}
  int fd_;
  SslPtr ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
};

}  // namespace

Result<TlsProbe> ProbeTls(const std::string& host, const std::string& port, const ClientTls& as,
                          std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  if (!as.Enabled()) return Status::FailedPrecondition("no CA to verify " + host + ":" + port + " with");
  auto result = [&]() -> Result<TlsProbe> {
    auto ctx = TlsContext(as);
    if (!ctx.ok()) return ctx.status();
    auto sock = Dial(host, port, deadline);
    if (!sock.ok()) return sock.status();
    auto session = Session::Start(ctx->get(), (*sock)->fd(), host);
    if (!session.ok()) return session.status();
    CAIRN_RETURN_IF_ERROR((*session)->Handshake(deadline));
    TlsProbe probe;
    auto pem = (*session)->ServedPem();
    if (!pem.ok()) return pem.status();
    probe.served_pem = *pem;
    if (as.cert_pem.empty()) {
      probe.refusal = "no client certificate was presented";
      return probe;
    }
    Status exchanged = (*session)->ExchangeHttp2Preface(deadline);
    if (exchanged.code() == StatusCode::kDeadlineExceeded) return exchanged;
    probe.accepted = exchanged.ok();
    if (!exchanged.ok()) probe.refusal = exchanged.message();
    return probe;
  }();
  ERR_clear_error();
  return result;
}

}  // namespace cairn::op
