// Gateway: etcd's HTTP/JSON gateway (grpc-gateway) and its /version, /health, /livez,
// /readyz and /metrics (metrics.h) endpoints, served on the client URLs next to gRPC
// (transport/port_mux.h).
//
// POST /v3/<service>/<method> (also under /v3beta and /v3alpha, as older clients such
// as python-etcd3gw use) takes the request message as JSON and answers the response
// message as JSON, with etcd's field names (proto names), 64-bit integers as strings
// and bytes as base64, exactly as etcd's gateway does. Each call goes through this
// member's own gRPC server (an in-process channel), so it behaves exactly like the
// gRPC call: same validation, same errors. Errors answer grpc-gateway's HTTP status for
// the gRPC code and {"error", "message", "code"}. /v3/watch and /v3/lease/keepalive
// stream: each response is one chunk {"result": ...}\n; a watch runs until the client
// disconnects. The Authorization header carries the auth token, as in etcd: get one
// from POST /v3/auth/authenticate; every /v3/auth/* call of etcd's gateway is served.
// Thread-safety: Serve() runs concurrently on many connections; the routes are
// immutable after construction.
#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/etcdserver/server.h"
#include "server/gateway/http_connection.h"

namespace cairn::gateway {

class Gateway {
 public:
  // `channel` reaches this member's client gRPC server; `server` answers /health.
  Gateway(std::shared_ptr<grpc::Channel> channel, etcdserver::EtcdServer* server, std::string version);

  // Serves HTTP/1.1 requests on `fd` until the client closes it. Does not close `fd`.
  void Serve(int fd);
  // The same for a --listen-metrics-urls connection: only /metrics, /health, /livez,
  // /readyz and /version; anything else is 404.
  void ServeMonitoring(int fd);

 private:
  // Runs one call: the request body (JSON) in, the response written to `http`.
  using Handler = std::function<bool(const HttpRequest& request, HttpConnection& http)>;

  bool Dispatch(const HttpRequest& request, HttpConnection& http);
  // Answers the monitoring endpoints; nullopt when `request` is for another path.
  std::optional<bool> DispatchMonitoring(const HttpRequest& request, HttpConnection& http);
  void ServeWith(int fd, bool (Gateway::*dispatch)(const HttpRequest&, HttpConnection&));
  bool DispatchMonitoringOnly(const HttpRequest& request, HttpConnection& http);
  bool Health(const HttpRequest& request, HttpConnection& http);
  bool Live(const HttpRequest& request, HttpConnection& http);
  bool Ready(const HttpRequest& request, HttpConnection& http);
  // {"health":"true|false","reason":…}: 200 when `failure` is empty, else 503.
  bool RespondCheck(const HttpRequest& request, HttpConnection& http, const std::string& failure);
  bool Watch(const HttpRequest& request, HttpConnection& http);
  bool KeepAlive(const HttpRequest& request, HttpConnection& http);

  std::shared_ptr<grpc::Channel> channel_;
  etcdserver::EtcdServer* server_;
  const std::string version_;
  const size_t max_body_bytes_;
  std::map<std::string, Handler> unary_;  // by path under /v3/
};

}  // namespace cairn::gateway
