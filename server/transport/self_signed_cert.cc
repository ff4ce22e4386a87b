#include "server/transport/self_signed_cert.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <functional>
#include <memory>

#include "server/transport/openssl_ptr.h"

namespace cairn::transport {
namespace {

using namespace ossl;

Status OpenSslError(const std::string& what) {
  return Status::Internal("auto TLS: " + what + " failed");
}

Status AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("extension " + value);
  return Status::Ok();
}

Result<std::string> Pem(const std::function<int(BIO*)>& write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslError("PEM encoding");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Status WriteWhole(FileSystem& fs, const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  auto f = fs.OpenWritable(tmp, 0);
  if (!f.ok()) return f.status();
  CAIRN_RETURN_IF_ERROR((*f)->Truncate(0));
  if (::chmod(tmp.c_str(), mode) != 0) return Status::Internal("chmod " + tmp);
  CAIRN_RETURN_IF_ERROR((*f)->Append(data));
  CAIRN_RETURN_IF_ERROR((*f)->Sync());
  CAIRN_RETURN_IF_ERROR((*f)->Close());
  return fs.Rename(tmp, path);
}

}  // namespace

Result<TlsFiles> SelfSignedCert(FileSystem& fs, const std::string& dir, const std::vector<std::string>& hosts,
                                unsigned validity_years) {
  CAIRN_CHECK(validity_years >= 1);
  TlsFiles files;
  files.cert_file = dir + "/cert.pem";
  files.key_file = dir + "/key.pem";
  files.self_signed = true;
  if (fs.Exists(files.cert_file) && fs.Exists(files.key_file)) {
    CAIRN_RETURN_IF_ERROR(files.Check("auto-tls "));
    return files;
  }

  PKey key(EVP_EC_gen("P-256"));
  Cert cert(X509_new());
  if (!key || !cert) return OpenSslError("key generation");
  BigNum serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslError("serial number");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* org = reinterpret_cast<const unsigned char*>("etcd");
  if (X509_set_version(cert.get(), 2) != 1 || X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, org, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity_years) * 365 * 24 * 3600) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return OpenSslError("certificate fields");
  }
  std::string sans;
  for (const auto& h : hosts) sans += (sans.empty() ? "" : ",") + std::string(IsIpAddress(h) ? "IP:" : "DNS:") + h;
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  if (!sans.empty()) CAIRN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, sans));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpenSslError("signing");

  auto key_pem = Pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  auto cert_pem = Pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  if (!key_pem.ok()) return key_pem.status();
  if (!cert_pem.ok()) return cert_pem.status();
  CAIRN_RETURN_IF_ERROR(fs.CreateDir(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return Status::Internal("chmod " + dir);
  // The key first: a crash between the two leaves no certificate, so the next start
  // makes a new pair instead of pairing a certificate with a key it does not match.
  CAIRN_RETURN_IF_ERROR(WriteWhole(fs, files.key_file, *key_pem, 0600));
  CAIRN_RETURN_IF_ERROR(WriteWhole(fs, files.cert_file, *cert_pem, 0644));
  return files;
}

}  // namespace cairn::transport
