#include "server/transport/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>

#include <cstdio>

namespace cairn::transport {
namespace {

enum class Pem { kCertificate, kPrivateKey };

Status CheckPem(const std::string& flag, const std::string& path, Pem kind) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::InvalidArgument("cannot open " + flag + " " + path);
  bool ok = false;
  if (kind == Pem::kCertificate) {
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    ok = cert != nullptr;
    X509_free(cert);
  } else {
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    ok = key != nullptr;
    EVP_PKEY_free(key);
  }
  std::fclose(f);
  if (!ok) {
    return Status::InvalidArgument(flag + " " + path + " holds no PEM " +
                                   (kind == Pem::kCertificate ? "certificate" : "private key"));
  }
  return Status::Ok();
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface> Provider(const TlsFiles& tls) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.trusted_ca_file, kCertReloadSeconds);
}

}  // namespace

Status TlsFiles::Check(std::string_view flag_prefix) const {
  const std::string p(flag_prefix);
  if (cert_file.empty() || key_file.empty()) {
    return Status::InvalidArgument("--" + p + "cert-file and --" + p + "key-file must be given together");
  }
  CAIRN_RETURN_IF_ERROR(CheckPem("--" + p + "cert-file", cert_file, Pem::kCertificate));
  CAIRN_RETURN_IF_ERROR(CheckPem("--" + p + "key-file", key_file, Pem::kPrivateKey));
  if (!trusted_ca_file.empty()) {
    CAIRN_RETURN_IF_ERROR(CheckPem("--" + p + "trusted-ca-file", trusted_ca_file, Pem::kCertificate));
  } else if (client_cert_auth) {
    return Status::InvalidArgument("--" + p + "client-cert-auth needs --" + p + "trusted-ca-file");
  }
  return Status::Ok();
}

bool IsSecureUrl(std::string_view url) { return url.starts_with("https://") || url.starts_with("unixs://"); }

std::shared_ptr<grpc::ServerCredentials> ServerTlsCredentials(const TlsFiles& tls) {
  grpc::experimental::TlsServerCredentialsOptions options(Provider(tls));
  options.watch_identity_key_cert_pairs();
  if (!tls.trusted_ca_file.empty()) options.watch_root_certs();
  options.set_cert_request_type(tls.client_cert_auth ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                     : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (tls.client_cert_auth && !tls.policy.Empty()) {
    options.set_certificate_verifier(PolicyVerifier(tls.policy));
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(std::string_view url, const TlsFiles& tls) {
  if (!IsSecureUrl(url)) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (tls.Enabled() || !tls.trusted_ca_file.empty()) {
    options.set_certificate_provider(Provider(tls));
    if (tls.Enabled()) options.watch_identity_key_cert_pairs();
    if (!tls.trusted_ca_file.empty()) options.watch_root_certs();
  }
  if (tls.self_signed && tls.trusted_ca_file.empty()) {
    // Peers with auto TLS have no CA to check each other with: encrypted, unverified.
    options.set_verify_server_certs(false);
    options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    options.set_check_call_host(false);
  }
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace cairn::transport
