#include "operator/kube/client.h"

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <cpprest/uri_builder.h>

#include "operator/kube/api_error.h"

namespace cairn::op::kube {
namespace {

namespace http = web::http;
using json = nlohmann::json;

Status StatusFromException(const std::exception& e) {
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) return {StatusCode::kDeadlineExceeded, std::string("kubernetes: ") + e.what()};
    if (he->error_code() == std::errc::operation_canceled) return {StatusCode::kCancelled, std::string("kubernetes: ") + e.what()};
  }
  if (dynamic_cast<const pplx::task_canceled*>(&e)) return {StatusCode::kCancelled, "kubernetes: request cancelled"};
  return Status::Unavailable(std::string("kubernetes: ") + e.what());
}

}  // namespace

class Client::Impl {
 public:
  Impl(KubeConfig config, ClientOptions options)
      : config_(std::move(config)),
        options_(options),
        token_(config_.token),
        token_read_(std::chrono::steady_clock::now()),
        http_(config_.server, MakeConfig(options_.timeout)) {}

  http::client::http_client_config MakeConfig(std::chrono::milliseconds timeout) const {
    http::client::http_client_config c;
    c.set_timeout(timeout);
    c.set_validate_certificates(!config_.insecure_skip_tls_verify);
    std::string ca = config_.ca_pem, cert = config_.client_cert_pem, key = config_.client_key_pem;
    c.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca));
      if (!cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert));
        ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
      }
    });
    return c;
  }

  std::string Token() {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!config_.token_file.empty() && now - token_read_ >= options_.token_reload) {
      auto t = ReadFileToString(config_.token_file);
      // A failed reread keeps the previous token: it may still be valid for a while.
      if (t.ok()) {
        token_ = *t;
        while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
      }
      token_read_ = now;
    }
    return token_;
  }

  http::http_request Request(const http::method& method, const std::string& uri) {
    http::http_request req(method);
    req.set_request_uri(uri);
    std::string token = Token();
    if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    req.headers().add("Accept", "application/json");
    return req;
  }

  Result<json> Do(const http::method& method, const std::string& uri, const json* body = nullptr,
                  const std::string& content_type = "application/json") {
    http::http_request req = Request(method, uri);
    if (body) req.set_body(body->dump(), content_type);
    try {
      http::http_response resp = http_.request(req).get();
      std::string text = resp.extract_utf8string(true).get();
      int code = resp.status_code();
      if (code < 200 || code >= 300) return StatusFromHttp(code, text);
      json j = json::parse(text, nullptr, false);
      if (j.is_discarded()) return Status::Internal("kubernetes: response is not JSON");
      return j;
    } catch (const std::exception& e) {
      return StatusFromException(e);
    }
  }

  Status Watch(const ResourceType& type, const std::string& ns, const WatchOptions& o,
               const std::function<void(const WatchEvent&)>& on_event, std::stop_token stop) {
    web::uri_builder b(CollectionPath(type, ns));
    b.append_query("watch", "true");
    if (!o.resource_version.empty()) b.append_query("resourceVersion", o.resource_version);
    if (o.bookmarks) b.append_query("allowWatchBookmarks", "true");
    if (!o.label_selector.empty()) b.append_query("labelSelector", o.label_selector);
    b.append_query("timeoutSeconds", std::to_string(o.timeout_seconds));

    // The timeout acts on silence between reads; the server may legitimately be quiet
    // for the whole timeoutSeconds, so allow that plus the usual slack.
    http::client::http_client client(config_.server,
                                     MakeConfig(std::chrono::seconds(o.timeout_seconds) + options_.timeout));
    pplx::cancellation_token_source cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
    try {
      http::http_response resp = client.request(Request(http::methods::GET, b.to_string()), cancel.get_token()).get();
      if (resp.status_code() != http::status_codes::OK) {
        return StatusFromHttp(resp.status_code(), resp.extract_utf8string(true).get());
      }
      auto body = resp.body().streambuf();
      std::string pending;
      char buf[8192];
      while (!stop.stop_requested()) {
        size_t want = std::min(sizeof(buf), std::max<size_t>(1, body.in_avail()));
        size_t n = body.getn(reinterpret_cast<uint8_t*>(buf), want).get();
        if (n == 0) break;  // the server ended the stream
        pending.append(buf, n);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
          json ev = json::parse(line, nullptr, false);
          if (ev.is_discarded() || !ev.contains("type")) return Status::Internal("kubernetes: malformed watch event");
          std::string t = ev["type"].get<std::string>();
          if (t == "ERROR") return StatusFromApi(500, ev.value("object", json::object()));
          on_event(WatchEvent{t, ev.value("object", json::object())});
        }
      }
      return Status::Ok();
    } catch (const std::exception& e) {
      if (stop.stop_requested()) return Status::Ok();
      return StatusFromException(e);
    }
  }

  const KubeConfig config_;
  const ClientOptions options_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_;
  http::client::http_client http_;
};

Result<std::unique_ptr<Client>> Client::Create(const KubeConfig& config, const ClientOptions& options) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("kubernetes server must be an http(s) URL: " + config.server);
  }
  try {
    return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(config, options)));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("kubernetes client: ") + e.what());
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<nlohmann::json> Client::Get(const ResourceType& type, const std::string& ns, const std::string& name) {
  return impl_->Do(http::methods::GET, ObjectPath(type, ns, name));
}

Result<ListResult> Client::List(const ResourceType& type, const std::string& ns, const std::string& label_selector) {
  web::uri_builder b(CollectionPath(type, ns));
  if (!label_selector.empty()) b.append_query("labelSelector", label_selector);
  auto r = impl_->Do(http::methods::GET, b.to_string());
  if (!r.ok()) return r.status();
  ListResult out;
  out.resource_version = r->value("/metadata/resourceVersion"_json_pointer, std::string());
  if (r->contains("items") && (*r)["items"].is_array()) {
    for (auto& item : (*r)["items"]) out.items.push_back(std::move(item));
  }
  return out;
}

Result<nlohmann::json> Client::Create(const ResourceType& type, const std::string& ns, const nlohmann::json& object) {
  return impl_->Do(http::methods::POST, CollectionPath(type, ns), &object);
}

namespace {
std::string NameOf(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return "";
  return object["metadata"].value("name", "");
}
}  // namespace

Result<nlohmann::json> Client::Update(const ResourceType& type, const std::string& ns, const nlohmann::json& object) {
  const std::string name = NameOf(object);
  if (name.empty()) return Status::InvalidArgument("update: object has no metadata.name");
  return impl_->Do(http::methods::PUT, ObjectPath(type, ns, name), &object);
}

Result<nlohmann::json> Client::UpdateStatus(const ResourceType& type, const std::string& ns, const nlohmann::json& object) {
  const std::string name = NameOf(object);
  if (name.empty()) return Status::InvalidArgument("update status: object has no metadata.name");
  return impl_->Do(http::methods::PUT, ObjectPath(type, ns, name) + "/status", &object);
}

Result<nlohmann::json> Client::MergePatch(const ResourceType& type, const std::string& ns, const std::string& name,
                                          const nlohmann::json& patch) {
  return impl_->Do(http::methods::PATCH, ObjectPath(type, ns, name), &patch, "application/merge-patch+json");
}

Status Client::Delete(const ResourceType& type, const std::string& ns, const std::string& name,
                      const std::string& uid) {
  nlohmann::json opts = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (!uid.empty()) opts["preconditions"] = {{"uid", uid}};
  auto r = impl_->Do(http::methods::DEL, ObjectPath(type, ns, name), &opts);
  return r.ok() ? Status::Ok() : r.status();
}

Status Client::Watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
                     const std::function<void(const WatchEvent&)>& on_event, std::stop_token stop) {
  return impl_->Watch(type, ns, options, on_event, stop);
}

}  // namespace cairn::op::kube
