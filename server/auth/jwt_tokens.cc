#include "server/auth/jwt_tokens.h"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <vector>

#include "server/transport/openssl_ptr.h"

namespace cairn::auth {
namespace {

using transport::ossl::Deleter;
using transport::ossl::PKey;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

struct Method {
  const EVP_MD* digest;
  enum class Kind { kRsa, kRsaPss, kEcdsa } kind;
  int ec_bytes;  // ECDSA: the size of r and of s in the JWS signature
};

std::optional<Method> MethodOf(const std::string& name) {
  if (name == "RS256") return Method{EVP_sha256(), Method::Kind::kRsa, 0};
  if (name == "RS384") return Method{EVP_sha384(), Method::Kind::kRsa, 0};
  if (name == "RS512") return Method{EVP_sha512(), Method::Kind::kRsa, 0};
  if (name == "PS256") return Method{EVP_sha256(), Method::Kind::kRsaPss, 0};
  if (name == "PS384") return Method{EVP_sha384(), Method::Kind::kRsaPss, 0};
  if (name == "PS512") return Method{EVP_sha512(), Method::Kind::kRsaPss, 0};
  if (name == "ES256") return Method{EVP_sha256(), Method::Kind::kEcdsa, 32};
  if (name == "ES384") return Method{EVP_sha384(), Method::Kind::kEcdsa, 48};
  if (name == "ES512") return Method{EVP_sha512(), Method::Kind::kEcdsa, 66};
  return std::nullopt;
}

Result<PKey> ReadKey(const std::string& path, bool is_private) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::InvalidArgument("cannot read the JWT key " + path);
  EVP_PKEY* key = is_private ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr)
                             : PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr) return Status::InvalidArgument("no PEM " + std::string(is_private ? "private" : "public") +
                                                     " key in " + path);
  return PKey(key);
}

// Sets up `ctx` for `method` (PSS padding for PS*).
bool Init(EVP_MD_CTX* ctx, const Method& method, EVP_PKEY* key, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const int ok = sign ? EVP_DigestSignInit(ctx, &pctx, method.digest, nullptr, key)
                      : EVP_DigestVerifyInit(ctx, &pctx, method.digest, nullptr, key);
  if (ok != 1) return false;
  if (method.kind == Method::Kind::kRsaPss) {
    // RFC 7518: PSS with the hash's own length as salt length.
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  return true;
}

// ECDSA signatures: OpenSSL's DER to JWS's fixed-size r||s, and back.
std::optional<std::string> DerToRaw(const std::string& der, int n) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  std::string raw(static_cast<size_t>(2 * n), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, n) != n) return std::nullopt;
  if (BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + n, n) != n) return std::nullopt;
  return raw;
}

std::optional<std::string> RawToDer(const std::string& raw, int n) {
  if (raw.size() != static_cast<size_t>(2 * n)) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(in, n, nullptr);
  BIGNUM* s = BN_bin2bn(in + n, n, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

}  // namespace

struct JwtTokens::Keys {
  Method method;
  PKey public_key;
  PKey private_key;  // null: verify only
};

std::string Base64UrlEncode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

Result<std::string> Base64UrlDecode(const std::string& text) {
  if (text.size() % 4 == 1) return Status::InvalidArgument("bad base64url length");
  std::string padded = text;
  for (char& c : padded) {
    if (c == '+' || c == '/' || c == '=') return Status::InvalidArgument("not base64url");
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  const size_t pad = (4 - padded.size() % 4) % 4;
  padded.append(pad, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
  if (n < 0) return Status::InvalidArgument("not base64url");
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

JwtTokens::JwtTokens(std::string sign_method, std::unique_ptr<Keys> keys, std::chrono::seconds ttl, Clock clock)
    : sign_method_(std::move(sign_method)), keys_(std::move(keys)), ttl_(ttl), clock_(std::move(clock)) {}

JwtTokens::~JwtTokens() = default;

Result<std::unique_ptr<JwtTokens>> JwtTokens::Create(const std::string& sign_method,
                                                     const std::string& public_key_file,
                                                     const std::string& private_key_file, std::chrono::seconds ttl,
                                                     Clock clock) {
  auto method = MethodOf(sign_method);
  if (!method) return Status::InvalidArgument("unsupported JWT sign-method \"" + sign_method + "\"");
  if (public_key_file.empty()) return Status::InvalidArgument("the jwt auth token needs pub-key");
  auto keys = std::make_unique<Keys>();
  keys->method = *method;
  auto pub = ReadKey(public_key_file, false);
  if (!pub.ok()) return pub.status();
  keys->public_key = std::move(pub.value());
  if (!private_key_file.empty()) {
    auto priv = ReadKey(private_key_file, true);
    if (!priv.ok()) return priv.status();
    keys->private_key = std::move(priv.value());
  }
  const bool want_ec = method->kind == Method::Kind::kEcdsa;
  if ((EVP_PKEY_base_id(keys->public_key.get()) == EVP_PKEY_EC) != want_ec) {
    return Status::InvalidArgument("the JWT keys do not suit sign-method " + sign_method);
  }
  return std::unique_ptr<JwtTokens>(new JwtTokens(sign_method, std::move(keys), ttl, std::move(clock)));
}

Result<std::string> JwtTokens::Assign(const std::string& user, uint64_t revision, const std::string&, uint64_t) {
  if (!keys_->private_key) return Status::FailedPrecondition("this member has no JWT private key to sign with");
  const nlohmann::json header = {{"alg", sign_method_}, {"typ", "JWT"}};
  const int64_t exp = std::chrono::duration_cast<std::chrono::seconds>((clock_() + ttl_).time_since_epoch()).count();
  const nlohmann::json claims = {{"exp", exp}, {"revision", revision}, {"username", user}};
  const std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  MdCtx ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || !Init(ctx.get(), keys_->method, keys_->private_key.get(), true) ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, signing_input.size()) != 1) {
    return Status::Internal("jwt: cannot sign");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, data,
                     signing_input.size()) != 1) {
    return Status::Internal("jwt: cannot sign");
  }
  signature.resize(len);
  if (keys_->method.kind == Method::Kind::kEcdsa) {
    auto raw = DerToRaw(signature, keys_->method.ec_bytes);
    if (!raw) return Status::Internal("jwt: malformed ECDSA signature");
    signature = std::move(*raw);
  }
  return signing_input + "." + Base64UrlEncode(signature);
}

std::optional<AuthInfo> JwtTokens::Info(const std::string& token, uint64_t) {
  const size_t first = token.find('.');
  const size_t second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos) return std::nullopt;
  auto header = Base64UrlDecode(token.substr(0, first));
  auto claims = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  auto signature = Base64UrlDecode(token.substr(second + 1));
  if (!header.ok() || !claims.ok() || !signature.ok()) return std::nullopt;
  // The algorithm is ours, never the token's say (no "none", no key confusion).
  const auto parsed_header = nlohmann::json::parse(*header, nullptr, false);
  if (!parsed_header.is_object() || parsed_header.value("alg", "") != sign_method_) return std::nullopt;
  std::string sig = std::move(signature.value());
  if (keys_->method.kind == Method::Kind::kEcdsa) {
    auto der = RawToDer(sig, keys_->method.ec_bytes);
    if (!der) return std::nullopt;
    sig = std::move(*der);
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || !Init(ctx.get(), keys_->method, keys_->public_key.get(), false) ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(token.data()), second) != 1) {
    return std::nullopt;
  }
  const auto parsed = nlohmann::json::parse(*claims, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const auto username = parsed.find("username");
  const auto revision = parsed.find("revision");
  const auto exp = parsed.find("exp");
  if (username == parsed.end() || !username->is_string() || revision == parsed.end() || !revision->is_number() ||
      exp == parsed.end() || !exp->is_number()) {
    return std::nullopt;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  if (exp->get<double>() <= static_cast<double>(now)) return std::nullopt;
  return AuthInfo{username->get<std::string>(), static_cast<uint64_t>(revision->get<double>())};
}

}  // namespace cairn::auth
