#include "server/transport/peer_san_check.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "server/transport/openssl_ptr.h"

namespace cairn::transport {
namespace {

using ossl::BigNum;
using ossl::Bio;
using ossl::Cert;

struct Sans {
  std::vector<std::string> ips, dns;
  std::string cn, serial;
};

Result<Sans> ReadSans(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::PermissionDenied("the peer's certificate does not parse");
  Sans out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->d.dNSName;
      out.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(s) == 4 ? AF_INET : ASN1_STRING_length(s) == 16 ? AF_INET6 : -1;
      if (family != -1 && inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text) != nullptr) out.ips.push_back(text);
    }
  }
  GENERAL_NAMES_free(names);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  out.cn = cn;
  if (BigNum bn{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)}) {
    char* hex = BN_bn2hex(bn.get());
    out.serial = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
  }
  return out;
}

// The same address, whatever its text form ("::1" and "0:0::1").
bool SameIp(const std::string& a, const std::string& b) {
  unsigned char x[16] = {}, y[16] = {};
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, a.c_str(), x) == 1) return inet_pton(family, b.c_str(), y) == 1 && std::equal(x, x + 16, y);
  }
  return a == b;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "\"" : ", \"") + s + "\"";
  return "[" + out + "]";
}

// "ipv4:127.0.0.1:5000" -> "127.0.0.1"; "ipv6:[::1]:5000" (or %5B...%5D) -> "::1".
std::string RemoteIp(std::string peer) {
  if (auto colon = peer.find(':'); colon != std::string::npos) peer = peer.substr(colon + 1);
  for (const char* open : {"%5B", "["}) {
    if (peer.rfind(open, 0) == 0) {
      const std::string close = std::string(open) == "[" ? "]" : "%5D";
      return peer.substr(std::string(open).size(), peer.find(close) - std::string(open).size());
    }
  }
  return peer.substr(0, peer.rfind(':'));
}

}  // namespace

PeerSanCheck::Resolver PeerSanCheck::SystemResolver() {
  Resolver r;
  r.reverse = [](const std::string& ip) {
    std::vector<std::string> names;
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      len = sizeof *v4;
    } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      len = sizeof *v6;
    } else {
      return names;
    }
    char host[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD) == 0) {
      names.push_back(host);
    }
    return names;
  };
  r.forward = [](const std::string& name) {
    std::vector<std::string> addrs;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return addrs;
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* addr = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                                 : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
      if (inet_ntop(a->ai_family, addr, text, sizeof text) != nullptr) addrs.push_back(text);
    }
    freeaddrinfo(found);
    return addrs;
  };
  return r;
}

Status PeerSanCheck::Check(const std::string& cert_pem, const std::string& remote_ip) {
  if (cert_pem.empty()) return Status::Ok();
  const std::string key = remote_ip + "\n" + cert_pem;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (accepted_.count(key)) return Status::Ok();
  }
  Status decided = Decide(cert_pem, remote_ip);
  if (decided.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (accepted_.size() >= kMaxCached) accepted_.clear();
    accepted_.emplace(key, true);
  }
  return decided;
}

Status PeerSanCheck::CheckCall(const grpc::ServerContext& context) {
  std::string pem;
  if (auto auth = context.auth_context()) {
    for (const auto& value : auth->FindPropertyValues("x509_pem_cert")) pem.assign(value.data(), value.size());
  }
  return Check(pem, RemoteIp(context.peer()));
}

Status PeerSanCheck::Decide(const std::string& cert_pem, const std::string& remote_ip) {
  auto sans = ReadSans(cert_pem);
  if (!sans.ok()) return sans.status();
  if (sans->ips.empty() && sans->dns.empty()) return Status::Ok();
  for (const auto& ip : sans->ips) {
    if (SameIp(ip, remote_ip)) return Status::Ok();
  }
  std::string why;
  if (sans->dns.empty()) {
    why = "the certificate is valid for " + Joined(sans->ips) + ", not " + remote_ip;
  } else {
    std::vector<std::string> wildcards, names;
    for (const auto& d : sans->dns) (d.rfind("*.", 0) == 0 ? wildcards : names).push_back(d);
    for (std::string name : resolver_.reverse(remote_ip)) {
      if (!name.empty() && name.back() == '.') name.pop_back();
      for (const auto& w : wildcards) {
        const std::string suffix = w.substr(1);
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
          return Status::Ok();
        }
      }
      for (const auto& n : names) {
        if (n == name) return Status::Ok();
      }
    }
    for (const auto& n : names) {
      for (const auto& addr : resolver_.forward(n)) {
        if (SameIp(addr, remote_ip)) return Status::Ok();
      }
    }
    why = "\"" + remote_ip + "\" does not match any of DNSNames " + Joined(sans->dns) +
          (sans->ips.empty() ? "" : " or IP SANs " + Joined(sans->ips));
  }
  spdlog::warn("rejected peer connection from {}: certificate CN={} serial={}: {}", remote_ip, sans->cn, sans->serial,
               why);
  return Status::PermissionDenied("peer certificate SAN check failed: " + why);
}

}  // namespace cairn::transport
