#include "operator/s3/client.h"

#include <boost/asio/ssl.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <variant>

namespace cairn::op::s3 {
namespace {

namespace http = web::http;
namespace ptree = boost::property_tree;

struct Call {
  http::method method;
  std::string key{};  // empty: the bucket itself
  Pairs query{};
  Pairs headers{};  // sent and signed
  const char* body = nullptr;
  size_t body_size = 0;
  std::string payload_sha256 = std::string(kEmptySha256);
  std::string content_type{};
};

struct Reply {
  int status = 0;
  http::http_headers headers;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

std::optional<ptree::ptree> ParseXml(const std::string& body) {
  try {
    std::istringstream in(body);
    ptree::ptree tree;
    ptree::read_xml(in, tree);
    return tree;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// ListObjectsV2 with encoding-type=url: application/x-www-form-urlencoded keys.
std::string FormDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

StatusCode CodeForHttp(int http_status) {
  switch (http_status) {
    case 400: return StatusCode::kInvalidArgument;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 405:
    case 501: return StatusCode::kUnimplemented;
    case 409:
    case 412: return StatusCode::kFailedPrecondition;
    case 416: return StatusCode::kOutOfRange;
    default: return http_status == 429 || http_status >= 500 ? StatusCode::kUnavailable : StatusCode::kUnknown;
  }
}

struct Failure {
  Status status;
  bool retryable = false;
};

// An error reply: S3's Code/Message/RequestId from an <Error> body when there is one.
Failure FromReply(const std::string& what, const Reply& r, const std::string& reason) {
  std::string code, message, request_id = r.Header("x-amz-request-id");
  if (auto xml = ParseXml(r.body)) {
    if (auto err = xml->get_child_optional("Error")) {
      code = err->get("Code", "");
      message = err->get("Message", "");
      if (request_id.empty()) request_id = err->get("RequestId", "");
    }
  }
  std::string text = "s3 " + what + ": ";
  text += code.empty() ? "HTTP " + std::to_string(r.status) + " " + reason
                       : code + (message.empty() ? "" : ": " + message) + " (HTTP " + std::to_string(r.status);
  if (!request_id.empty()) text += (code.empty() ? " (" : ", ") + std::string("request id ") + request_id;
  if (!code.empty() || !request_id.empty()) text += ")";
  // A 2xx carrying an <Error> (CompleteMultipartUpload can) is a server-side failure.
  StatusCode sc = r.status < 300 ? StatusCode::kUnavailable : CodeForHttp(r.status);
  bool retryable = r.status < 300 || r.status >= 500 || r.status == 429 || code == "SlowDown" ||
                   code == "RequestTimeout" || code == "InternalError";
  return {Status(sc, text), retryable};
}

Failure FromException(const std::string& what, const std::exception& e) {
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) {
      return {Status(StatusCode::kDeadlineExceeded, "s3 " + what + ": timed out: " + e.what()), true};
    }
  }
  return {Status::Unavailable("s3 " + what + ": " + e.what()), true};
}

}  // namespace

class Client::Impl {
 public:
  Impl(ClientConfig config, std::string scheme, std::string host, int port, std::string ca_pem)
      : config_(std::move(config)),
        // The connection goes to the bucket's own name when virtual-hosted.
        host_(config_.path_style ? host : config_.bucket + "." + host),
        host_header_(HostHeader(scheme, host_, port)),
        // cpprestsdk takes an explicit Host header as the TLS name too, so it must not
        // carry a port: with a non-default port, cpprestsdk writes "host:port" itself
        // from the explicit port in the base URI, which is what gets signed.
        set_host_(host_header_ == host_),
        http_(utility::conversions::to_string_t(scheme + "://" + host_ + ":" + std::to_string(port)),
              MakeConfig(config_.timeout, std::move(ca_pem))) {
    if (!config_.sleep) config_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }

  static http::client::http_client_config MakeConfig(std::chrono::milliseconds timeout, std::string ca_pem) {
    http::client::http_client_config c;
    c.set_timeout(timeout);
    if (!ca_pem.empty()) {
      c.set_ssl_context_callback([ca = std::move(ca_pem)](boost::asio::ssl::context& ctx) {
        ctx.add_certificate_authority(boost::asio::buffer(ca));
      });
    }
    return c;
  }

  std::string Url(const std::string& key) const { return "s3://" + config_.bucket + "/" + key; }

  std::string Path(const std::string& key) const {
    std::string base = config_.path_style ? "/" + config_.bucket : "";
    return key.empty() ? (base.empty() ? "/" : base) : base + "/" + key;
  }

  std::variant<Reply, Failure> Attempt(const Call& c, const std::string& what) {
    SigningRequest sr{utility::conversions::to_utf8string(c.method), host_header_, Path(c.key), c.query, c.headers,
                      c.payload_sha256};
    auto sig = Sign(sr, SigningParams{config_.credentials, config_.region, "s3", config_.now()});
    if (!sig.ok()) return Failure{sig.status(), false};
    http::http_request req(c.method);
    std::string target = EncodePath(sr.path);
    if (!c.query.empty()) target += "?" + CanonicalQuery(c.query);
    try {
      req.set_request_uri(utility::conversions::to_string_t(target));
      if (set_host_) req.headers().add("Host", host_header_);
      for (const auto& [k, v] : c.headers) req.headers().add(k, v);
      for (const auto& [k, v] : sig->headers) req.headers().add(k, v);
      if (c.body_size > 0) {
        // Read in place: a part is never copied, and every attempt re-reads the caller's buffer.
        concurrency::streams::rawptr_buffer<uint8_t> buf(reinterpret_cast<const uint8_t*>(c.body), c.body_size);
        req.set_body(concurrency::streams::istream(buf), c.body_size, c.content_type);
      }
      http::http_response resp = http_.request(req).get();
      Reply r;
      r.status = resp.status_code();
      r.headers = resp.headers();
      concurrency::streams::container_buffer<std::string> body;
      resp.body().read_to_end(body).get();
      r.body = std::move(body.collection());
      bool embedded_error =
          r.status < 300 && c.method == http::methods::POST && r.body.find("<Error>") != std::string::npos;
      if (r.status >= 300 || embedded_error) return FromReply(what, r, resp.reason_phrase());
      return r;
    } catch (const std::exception& e) {
      return FromException(what, e);
    }
  }

  Result<Reply> Do(const Call& c, const std::string& what) {
    std::chrono::milliseconds delay = config_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      auto r = Attempt(c, what);
      if (auto* ok = std::get_if<Reply>(&r)) return std::move(*ok);
      Failure& f = std::get<Failure>(r);
      if (!f.retryable || attempt >= config_.max_attempts) {
        if (attempt == 1) return f.status;
        return Status(f.status.code(), f.status.message() + " (after " + std::to_string(attempt) + " attempts)");
      }
      config_.sleep(delay);
      delay = std::min(config_.max_backoff, delay * 2);
    }
  }

  Pairs EncryptionHeaders() const {
    if (config_.server_side_encryption.empty()) return {};
    return {{"x-amz-server-side-encryption", config_.server_side_encryption}};
  }

  Result<std::string> Put(const std::string& key, const char* data, size_t n) {
    Call c{.method = http::methods::PUT,
           .key = key,
           .headers = EncryptionHeaders(),
           .body = data,
           .body_size = n,
           .payload_sha256 = Sha256Hex(std::string_view(data, n)),
           .content_type = "application/octet-stream"};
    auto r = Do(c, "PutObject " + Url(key));
    if (!r.ok()) return r.status();
    return r->Header("ETag");
  }

  Result<std::string> CreateMultipart(const std::string& key) {
    Call c{.method = http::methods::POST, .key = key, .query = {{"uploads", ""}}, .headers = EncryptionHeaders()};
    auto r = Do(c, "CreateMultipartUpload " + Url(key));
    if (!r.ok()) return r.status();
    auto xml = ParseXml(r->body);
    std::string id = xml ? xml->get("InitiateMultipartUploadResult.UploadId", "") : "";
    if (id.empty()) return Status::Internal("s3 CreateMultipartUpload " + Url(key) + ": no UploadId in the response");
    return id;
  }

  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int number, const char* data,
                                 size_t n) {
    Call c{.method = http::methods::PUT,
           .key = key,
           .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
           .body = data,
           .body_size = n,
           .payload_sha256 = Sha256Hex(std::string_view(data, n)),
           .content_type = "application/octet-stream"};
    auto r = Do(c, "UploadPart " + std::to_string(number) + " of " + Url(key));
    if (!r.ok()) return r.status();
    std::string etag = r->Header("ETag");
    if (etag.empty()) return Status::Internal("s3 UploadPart " + Url(key) + ": no ETag in the response");
    return etag;
  }

  Result<std::string> CompleteMultipart(const std::string& key, const std::string& upload_id,
                                        const std::vector<std::string>& etags) {
    std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (size_t i = 0; i < etags.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(etags[i]) +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Call c{.method = http::methods::POST,
           .key = key,
           .query = {{"uploadId", upload_id}},
           .body = xml.data(),
           .body_size = xml.size(),
           .payload_sha256 = Sha256Hex(xml),
           .content_type = "application/xml"};
    auto r = Do(c, "CompleteMultipartUpload " + Url(key));
    if (!r.ok()) return r.status();
    auto parsed = ParseXml(r->body);
    std::string etag = parsed ? parsed->get("CompleteMultipartUploadResult.ETag", "") : "";
    if (etag.empty()) return Status::Internal("s3 CompleteMultipartUpload " + Url(key) + ": no ETag in the response");
    return etag;
  }

  Status AbortMultipart(const std::string& key, const std::string& upload_id) {
    Call c{.method = http::methods::DEL, .key = key, .query = {{"uploadId", upload_id}}};
    auto r = Do(c, "AbortMultipartUpload " + Url(key));
    return r.ok() ? Status::Ok() : r.status();
  }

  ClientConfig config_;
  const std::string host_;
  const std::string host_header_;
  const bool set_host_;
  http::client::http_client http_;
};

Result<std::unique_ptr<Client>> Client::Create(ClientConfig config) {
  std::string scheme, host;
  int port = 0;
  try {
    web::uri u(utility::conversions::to_string_t(config.endpoint));
    scheme = u.scheme();
    host = u.host();
    port = u.port();
    if ((u.path() != "/" && !u.path().empty()) || !u.query().empty() || !u.fragment().empty() ||
        !u.user_info().empty()) {
      return Status::InvalidArgument("s3 endpoint must be scheme://host[:port] only: " + config.endpoint);
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument("s3 endpoint is not a URL: " + config.endpoint + ": " + e.what());
  }
  if ((scheme != "http" && scheme != "https") || host.empty()) {
    return Status::InvalidArgument("s3 endpoint must be an http(s) URL with a host: " + config.endpoint);
  }
  if (port <= 0) port = scheme == "https" ? 443 : 80;
  if (config.bucket.empty()) return Status::InvalidArgument("s3: no bucket");
  if (config.region.empty()) return Status::InvalidArgument("s3: no region");
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("s3: no access key id or secret access key");
  }
  const std::string& sse = config.server_side_encryption;
  if (!sse.empty() && sse != "AES256" && sse != "aws:kms") {
    return Status::InvalidArgument("s3: server-side encryption must be AES256 or aws:kms, not " + sse);
  }
  if (config.max_attempts < 1 || config.get_range_size == 0) {
    return Status::InvalidArgument("s3: max_attempts and get_range_size must be positive");
  }
  std::string ca_pem = config.ca_pem;
  if (!config.ca_file.empty()) {
    std::ifstream in(config.ca_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return Status::InvalidArgument("s3: cannot read CA bundle " + config.ca_file);
    ca_pem = ss.str();
  }
  if (!ca_pem.empty()) {
    // Checked here: cpprestsdk would only fail at the first TLS connection.
    try {
      boost::asio::ssl::context ctx(boost::asio::ssl::context::sslv23);
      ctx.add_certificate_authority(boost::asio::buffer(ca_pem));
    } catch (const std::exception& e) {
      const std::string from = config.ca_file.empty() ? "" : " " + config.ca_file;
      return Status::InvalidArgument("s3: CA bundle" + from + " holds no usable PEM certificate: " + e.what());
    }
  }
  try {
    return std::unique_ptr<Client>(
        new Client(std::make_unique<Impl>(std::move(config), scheme, host, port, std::move(ca_pem))));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("s3 client: ") + e.what());
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

namespace {
Status NeedKey(const std::string& key) {
  if (key.empty()) return Status::InvalidArgument("s3: empty object key");
  if (key.size() > 1024) return Status::InvalidArgument("s3: object key longer than 1024 bytes");
  return Status::Ok();
}

// Fills buf to cap or the end of the stream.
struct Filled {
  size_t n = 0;
  bool eof = false;
};
Result<Filled> Fill(const Reader& read, char* buf, size_t cap) {
  Filled f;
  while (f.n < cap) {
    auto r = read(buf + f.n, cap - f.n);
    if (!r.ok()) return r.status();
    if (*r > cap - f.n) return Status::Internal("s3 upload: the reader returned more bytes than asked for");
    if (*r == 0) {
      f.eof = true;
      break;
    }
    f.n += *r;
  }
  return f;
}
}  // namespace

Result<std::string> Client::PutObject(const std::string& key, const std::string& data) {
  CAIRN_RETURN_IF_ERROR(NeedKey(key));
  return impl_->Put(key, data.data(), data.size());
}

Result<UploadResult> Client::Upload(const std::string& key, const Reader& read, size_t part_size) {
  CAIRN_RETURN_IF_ERROR(NeedKey(key));
  if (part_size < kMinPartSize || part_size > kMaxPartSize) {
    return Status::InvalidArgument("s3 upload: part size " + std::to_string(part_size) + " outside [5 MiB, 5 GiB]");
  }
  auto buf = std::make_unique_for_overwrite<char[]>(part_size);
  UploadResult out;
  Sha256 whole;
  auto filled = Fill(read, buf.get(), part_size);
  if (!filled.ok()) return filled.status();
  whole.Update(buf.get(), filled->n);
  out.size = filled->n;
  if (filled->eof) {
    auto etag = impl_->Put(key, buf.get(), filled->n);
    if (!etag.ok()) return etag.status();
    out.etag = *etag;
    out.sha256 = whole.HexDigest();
    return out;
  }

  auto upload_id = impl_->CreateMultipart(key);
  if (!upload_id.ok()) return upload_id.status();
  auto abort = [&](const Status& cause) {
    Status st = impl_->AbortMultipart(key, *upload_id);
    std::string msg = cause.message() + " (multipart upload " + *upload_id + " aborted";
    msg += st.ok() ? ")" : "; the abort failed too: " + st.message() + ")";
    return Status(cause.code(), msg);
  };

  std::vector<std::string> etags;
  for (;;) {
    auto etag = impl_->UploadPart(key, *upload_id, static_cast<int>(etags.size()) + 1, buf.get(), filled->n);
    if (!etag.ok()) return abort(etag.status());
    etags.push_back(*etag);
    if (filled->eof) break;
    filled = Fill(read, buf.get(), part_size);
    if (!filled.ok()) return abort(filled.status());
    if (filled->n == 0) break;
    if (etags.size() == kMaxParts) {
      return abort(Status::ResourceExhausted("s3 upload " + impl_->Url(key) + ": more than " +
                                             std::to_string(kMaxParts) + " parts of " + std::to_string(part_size) +
                                             " bytes"));
    }
    whole.Update(buf.get(), filled->n);
    out.size += filled->n;
  }
  auto etag = impl_->CompleteMultipart(key, *upload_id, etags);
  if (!etag.ok()) return abort(etag.status());
  out.etag = *etag;
  out.sha256 = whole.HexDigest();
  out.parts = static_cast<int>(etags.size());
  return out;
}

Result<ObjectInfo> Client::HeadObject(const std::string& key) {
  CAIRN_RETURN_IF_ERROR(NeedKey(key));
  auto r = impl_->Do(Call{.method = http::methods::HEAD, .key = key}, "HeadObject " + impl_->Url(key));
  if (!r.ok()) return r.status();
  ObjectInfo info;
  info.key = key;
  info.etag = r->Header("ETag");
  info.last_modified = r->Header("Last-Modified");
  try {
    info.size = std::stoull(r->Header("Content-Length"));
  } catch (const std::exception&) {
    return Status::Internal("s3 HeadObject " + impl_->Url(key) + ": no Content-Length in the response");
  }
  return info;
}

Result<DownloadResult> Client::GetObject(const std::string& key, const Writer& write) {
  auto head = HeadObject(key);
  if (!head.ok()) return head.status();
  DownloadResult out;
  out.size = head->size;
  out.etag = head->etag;
  Sha256 hash;
  const std::string what = "GetObject " + impl_->Url(key);
  for (uint64_t off = 0; off < out.size;) {
    uint64_t last = std::min<uint64_t>(out.size, off + impl_->config_.get_range_size) - 1;
    Pairs headers = {{"Range", "bytes=" + std::to_string(off) + "-" + std::to_string(last)}};
    if (!out.etag.empty()) headers.emplace_back("If-Match", out.etag);
    auto r = impl_->Do(Call{.method = http::methods::GET, .key = key, .headers = headers}, what);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kFailedPrecondition) {
        return Status(StatusCode::kAborted, r.status().message() + ": the object changed during the download");
      }
      return r.status();
    }
    // A server that ignores Range sends the whole object: usable only from the start.
    bool whole = r->status == 200 && off == 0 && r->body.size() == out.size;
    if (!whole && (r->status != 206 || r->body.size() != last - off + 1)) {
      return Status::DataLoss("s3 " + what + ": asked for bytes " + std::to_string(off) + "-" + std::to_string(last) +
                              ", got HTTP " + std::to_string(r->status) + " with " +
                              std::to_string(r->body.size()) + " bytes");
    }
    hash.Update(r->body.data(), r->body.size());
    CAIRN_RETURN_IF_ERROR(write(r->body.data(), r->body.size()));
    off += r->body.size();
  }
  out.sha256 = hash.HexDigest();
  return out;
}

Result<std::vector<ObjectInfo>> Client::ListObjectsV2(const std::string& prefix, int page_size) {
  if (page_size < 1 || page_size > 1000) return Status::InvalidArgument("s3: list page size outside [1, 1000]");
  const std::string what = "ListObjectsV2 " + impl_->Url(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    Pairs query = {{"list-type", "2"},
                   {"prefix", prefix},
                   {"max-keys", std::to_string(page_size)},
                   {"encoding-type", "url"}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    auto r = impl_->Do(Call{.method = http::methods::GET, .query = query}, what);
    if (!r.ok()) return r.status();
    auto xml = ParseXml(r->body);
    auto result = xml ? xml->get_child_optional("ListBucketResult") : boost::none;
    if (!result) return Status::Internal("s3 " + what + ": the response is not a ListBucketResult");
    // Only a server that honoured encoding-type=url says so; others send keys as they are.
    bool encoded = result->get("EncodingType", "") == "url";
    try {
      for (const auto& [name, node] : *result) {
        if (name != "Contents") continue;
        ObjectInfo info;
        info.key = node.get<std::string>("Key");
        if (encoded) info.key = FormDecode(info.key);
        info.size = node.get<uint64_t>("Size");
        info.etag = node.get("ETag", "");
        info.last_modified = node.get("LastModified", "");
        out.push_back(std::move(info));
      }
    } catch (const std::exception& e) {
      return Status::Internal("s3 " + what + ": malformed Contents: " + e.what());
    }
    if (result->get("IsTruncated", "false") != "true") return out;
    std::string next = result->get("NextContinuationToken", "");
    if (next.empty() || next == token) {
      return Status::Internal("s3 " + what + ": a truncated listing without a new continuation token");
    }
    token = next;
  }
}

Status Client::DeleteObject(const std::string& key) {
  CAIRN_RETURN_IF_ERROR(NeedKey(key));
  auto r = impl_->Do(Call{.method = http::methods::DEL, .key = key}, "DeleteObject " + impl_->Url(key));
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace cairn::op::s3
