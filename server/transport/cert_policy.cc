#include "server/transport/cert_policy.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "server/transport/openssl_ptr.h"

namespace cairn::transport {
namespace {

using namespace ossl;

std::string CommonName(X509* cert) {
  char cn[256] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return n > 0 ? std::string(cn, static_cast<size_t>(n)) : "";
}

std::string Serial(X509* cert) {
  BigNum bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "?";
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex != nullptr ? hex : "?";
  OPENSSL_free(hex);
  return s;
}

// PEM or DER, as etcd's x509.ParseCRL takes either.
Result<Crl> ReadCrl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::PermissionDenied("cannot read CRL file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  Crl crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!crl) return Status::PermissionDenied("CRL file " + path + " holds no certificate revocation list");
  return crl;
}

class Verifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit Verifier(CertPolicy policy) : policy_(std::move(policy)) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request, std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    Status s = policy_.Check(std::string_view(pem.data(), pem.size()));
    if (!s.ok()) spdlog::warn("rejected {} connection: {}", policy_.side, s.message());
    *sync_status = s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::PERMISSION_DENIED, s.message());
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const CertPolicy policy_;
};

}  // namespace

Status CertPolicy::Check(std::string_view cert_pem) const {
  Bio bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::PermissionDenied("no certificate presented");
  const std::string who = "certificate CN=\"" + CommonName(cert.get()) + "\" serial " + Serial(cert.get());
  if (!crl_file.empty()) {
    auto crl = ReadCrl(crl_file);
    if (!crl.ok()) return Status::PermissionDenied(who + ": " + crl.status().message());
    X509_REVOKED* revoked = nullptr;
    if (X509_CRL_get0_by_serial(crl->get(), &revoked, X509_get0_serialNumber(cert.get())) == 1) {
      return Status::PermissionDenied(who + " is revoked by " + crl_file);
    }
  }
  if (allowed_cns.empty() && allowed_hostnames.empty()) return Status::Ok();
  const std::string cn = CommonName(cert.get());
  for (const auto& allowed : allowed_cns) {
    if (cn == allowed) return Status::Ok();
  }
  for (const auto& host : allowed_hostnames) {
    const bool valid = IsIpAddress(host) ? X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1
                                  : X509_check_host(cert.get(), host.c_str(), host.size(), 0, nullptr) == 1;
    if (valid) return Status::Ok();
  }
  return Status::PermissionDenied(who + " is neither of an allowed CN nor valid for an allowed hostname");
}

std::shared_ptr<grpc::experimental::CertificateVerifier> PolicyVerifier(CertPolicy policy) {
  return grpc::experimental::ExternalCertificateVerifier::Create<Verifier>(std::move(policy));
}

}  // namespace cairn::transport
