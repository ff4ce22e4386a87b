// AWS Signature Version 4 for S3 requests signed in the Authorization header, with the
// payload sent in a single chunk (its SHA-256, or UNSIGNED-PAYLOAD); no presigned URLs
// and no chunked (STREAMING-*) payloads.
//
// Pure: Sign() reads no clock, no environment and no files; the time and the
// credentials are inputs, so the same input always gives the same headers. The request
// is given decoded (path and query as the caller means them) and this module owns the
// encoding, so the bytes on the wire are exactly the bytes signed: send
// EncodePath(path) and CanonicalQuery(query) as the request target, HostHeader() as Host,
// and the headers in the request plus those Sign() returns.
// Canonicalization follows S3's rules: each path segment URI-encoded once ('/' kept, no
// dot-segment normalization), query parameters encoded with the RFC 3986 unreserved set
// and sorted by encoded name then encoded value, header names lowercased, values trimmed
// with inner whitespace runs collapsed, repeated headers joined with ','.
// Thread-safety: free functions without shared state; a Sha256 object is not shared
// between threads.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/status.h"

namespace cairn::op::s3 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The hash of an empty payload, sent with every request without a body.
inline constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term keys (no x-amz-security-token)
};

struct SigningRequest {
  std::string method;  // "GET", "PUT", ... (uppercase)
  std::string host;    // the Host header's value: see HostHeader()
  std::string path;    // decoded, starting with '/'
  Pairs query;         // decoded names and values; a name without value has ""
  Pairs headers;       // further headers to sign, any case; not those Sign() adds, nor Host
  std::string payload_sha256;  // lowercase hex SHA-256 of the body, or kUnsignedPayload
};

struct SigningParams {
  Credentials credentials;
  std::string region;  // "us-east-1"
  std::string service = "s3";
  std::chrono::system_clock::time_point time;  // whole seconds are signed
};

struct Signature {
  // To add to the request: Authorization, x-amz-date, x-amz-content-sha256 and, with a
  // session token, x-amz-security-token.
  Pairs headers;
  // The intermediate steps, comparable with AWS's documented examples and with the
  // CanonicalRequest/StringToSign that S3 returns in a SignatureDoesNotMatch error.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

// Fails with kInvalidArgument on malformed input (a path not starting with '/', a
// payload hash that is neither 64 lowercase hex digits nor UNSIGNED-PAYLOAD, a header
// name that is empty or holds whitespace or ':', a header the signer sets itself,
// missing credentials, region or service).
Result<Signature> Sign(const SigningRequest& request, const SigningParams& params);

// Each byte outside the RFC 3986 unreserved set (and '/' when keep_slash) as %XX.
std::string UriEncode(std::string_view s, bool keep_slash);
// The request path as signed and sent: UriEncode(path, keep_slash=true).
std::string EncodePath(std::string_view decoded_path);
// The query string as signed and sent: "a=1&b=x%20y&uploads=".
std::string CanonicalQuery(const Pairs& decoded_query);
// "host" for the scheme's default port (http 80, https 443), else "host:port".
std::string HostHeader(std::string_view scheme, std::string_view host, int port);
// 20130524T000000Z
std::string AmzDate(std::chrono::system_clock::time_point t);

std::string HexEncode(const unsigned char* data, size_t n);
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256, for hashing an object while it streams.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  std::string HexDigest();  // ends the hash: call once

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace cairn::op::s3
