#include "operator/http/health_server.h"

#include <cpprest/http_listener.h>

namespace cairn::op {

namespace http = web::http;

class HealthServer::Impl {
 public:
  Impl(const std::string& uri, Probes probes) : probes_(std::move(probes)), listener_(uri) {
    listener_.support(http::methods::GET, [this](http::http_request req) { Handle(req); });
    listener_.open().wait();
  }
  ~Impl() { listener_.close().wait(); }

 private:
  void Handle(http::http_request req) {
    const std::string path = req.relative_uri().path();
    if (path == "/healthz") {
      req.reply(http::status_codes::OK, "ok", "text/plain; charset=utf-8");
    } else if (path == "/readyz") {
      bool ready = probes_.ready && probes_.ready();
      req.reply(ready ? http::status_codes::OK : http::status_codes::ServiceUnavailable, ready ? "ok" : "not ready",
                "text/plain; charset=utf-8");
    } else if (path == "/metrics") {
      req.reply(http::status_codes::OK, probes_.metrics ? probes_.metrics() : "", "text/plain; version=0.0.4; charset=utf-8");
    } else {
      req.reply(http::status_codes::NotFound, "not found", "text/plain; charset=utf-8");
    }
  }

  Probes probes_;
  http::experimental::listener::http_listener listener_;
};

Result<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& address, Probes probes) {
  if (address.find(':') == std::string::npos) return Status::InvalidArgument("--http-address must be host:port: " + address);
  try {
    return std::unique_ptr<HealthServer>(new HealthServer(std::make_unique<Impl>("http://" + address, std::move(probes))));
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + address + ": " + e.what());
  }
}

HealthServer::HealthServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HealthServer::~HealthServer() = default;

}  // namespace cairn::op
