#include "operator/s3/sigv4.h"

#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>

namespace cairn::op::s3 {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

bool Space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trimall: no leading or trailing whitespace, each inner run of it one space.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (Space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool LowerHex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string EncodePath(std::string_view decoded_path) { return UriEncode(decoded_path, true); }

std::string CanonicalQuery(const Pairs& decoded_query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(decoded_query.size());
  for (const auto& [k, v] : decoded_query) encoded.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string HostHeader(std::string_view scheme, std::string_view host, int port) {
  bool default_port = port <= 0 || (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  std::string out(host);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string HexEncode(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.HexDigest();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CAIRN_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1);
}

void Sha256::Update(const void* data, size_t n) { CAIRN_CHECK(EVP_DigestUpdate(ctx_.get(), data, n) == 1); }

std::string Sha256::HexDigest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(ctx_.get(), out, &n) == 1);
  return HexEncode(out, n);
}

Result<Signature> Sign(const SigningRequest& request, const SigningParams& params) {
  if (request.method.empty()) return Status::InvalidArgument("sigv4: empty method");
  if (request.host.empty()) return Status::InvalidArgument("sigv4: empty host");
  if (request.path.empty() || request.path[0] != '/') {
    return Status::InvalidArgument("sigv4: path must start with '/': " + request.path);
  }
  if (request.payload_sha256 != kUnsignedPayload && !LowerHex64(request.payload_sha256)) {
    return Status::InvalidArgument("sigv4: payload hash must be lowercase hex SHA-256 or UNSIGNED-PAYLOAD");
  }
  const Credentials& cred = params.credentials;
  if (cred.access_key_id.empty() || cred.secret_access_key.empty()) {
    return Status::InvalidArgument("sigv4: missing access key id or secret access key");
  }
  if (params.region.empty() || params.service.empty()) {
    return Status::InvalidArgument("sigv4: missing region or service");
  }

  const std::string amz_date = AmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);

  Pairs added = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", request.payload_sha256}};
  if (!cred.session_token.empty()) added.emplace_back("x-amz-security-token", cred.session_token);

  // Ordered by lowercased name; values of a repeated name joined in request order.
  std::map<std::string, std::string> canonical;
  canonical["host"] = TrimAll(request.host);
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || std::any_of(name.begin(), name.end(), [](char c) { return Space(c) || c == ':'; })) {
      return Status::InvalidArgument("sigv4: bad header name '" + name + "'");
    }
    std::string lname = Lower(name);
    if (lname == "host" || lname == "authorization" || lname == "x-amz-date" || lname == "x-amz-content-sha256" ||
        lname == "x-amz-security-token") {
      return Status::InvalidArgument("sigv4: header " + lname + " is set by the signer");
    }
    auto [it, inserted] = canonical.try_emplace(lname, TrimAll(value));
    if (!inserted) it->second += "," + TrimAll(value);
  }
  for (const auto& [name, value] : added) canonical[name] = TrimAll(value);

  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  Signature sig;
  sig.canonical_request = request.method + "\n" + EncodePath(request.path) + "\n" + CanonicalQuery(request.query) +
                          "\n" + canonical_headers + "\n" + signed_headers + "\n" + request.payload_sha256;
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  sig.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(sig.canonical_request);

  std::string key = Hmac("AWS4" + cred.secret_access_key, date);
  key = Hmac(key, params.region);
  key = Hmac(key, params.service);
  key = Hmac(key, "aws4_request");
  std::string mac = Hmac(key, sig.string_to_sign);
  sig.signature = HexEncode(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());

  sig.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + cred.access_key_id + "/" + scope +
                                                ", SignedHeaders=" + signed_headers + ", Signature=" + sig.signature);
  for (auto& h : added) sig.headers.push_back(std::move(h));
  return sig;
}

}  // namespace cairn::op::s3
