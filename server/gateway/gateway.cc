#include "server/gateway/gateway.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "etcd/server/v3election/v3election.grpc.pb.h"
#include "etcd/server/v3lock/v3lock.grpc.pb.h"
#include "server/common/etcd_limits.h"
#include "server/gateway/metrics.h"

namespace cairn::gateway {
namespace {

constexpr char kJson[] = "application/json";

// grpc-gateway's HTTPStatusFromCode (v1, as etcd 3.4/3.5 use it).
int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::CANCELLED: return 408;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::FAILED_PRECONDITION: return 412;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    default: return 500;
  }
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string ErrorBody(const grpc::Status& status) {
  const std::string message = Quoted(status.error_message());
  return "{\"error\":" + message + ",\"message\":" + message + ",\"code\":" +
         std::to_string(static_cast<int>(status.error_code())) + "}";
}

bool RespondError(HttpConnection& http, const grpc::Status& status, bool keep_alive) {
  return http.Respond(HttpStatusOf(status.error_code()), kJson, ErrorBody(status), keep_alive);
}

// etcd's gateway marshals with the proto field names and without default values.
std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

grpc::Status FromJson(const std::string& body, google::protobuf::Message* m) {
  if (body.empty()) return grpc::Status::OK;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto st = google::protobuf::util::JsonStringToMessage(body, m, options);
  if (!st.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(st.message()));
  return grpc::Status::OK;
}

// etcd's gateway passes the HTTP Authorization header on as "authorization" metadata,
// which the server takes as the auth token (api/caller.h).
void ForwardToken(const HttpRequest& request, grpc::ClientContext& context) {
  auto it = request.headers.find("authorization");
  if (it != request.headers.end()) context.AddMetadata("authorization", it->second);
}

template <typename Stub, typename Request, typename Response>
std::function<bool(const HttpRequest&, HttpConnection&)> Unary(
    std::shared_ptr<Stub> stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*)) {
  return [stub, method](const HttpRequest& request, HttpConnection& http) {
    Request in;
    grpc::Status st = FromJson(request.body, &in);
    Response out;
    if (st.ok()) {
      grpc::ClientContext context;
      ForwardToken(request, context);
      st = ((*stub).*method)(&context, in, &out);
    }
    if (!st.ok()) return RespondError(http, st, request.keep_alive);
    return http.Respond(200, kJson, ToJson(out), request.keep_alive);
  };
}

// Cancels `context` once the HTTP client goes away, for streams that only end then.
class HangupWatch {
 public:
  HangupWatch(const HttpConnection& http, grpc::ClientContext& context)
      : thread_([this, &http, &context] {
          while (!done_.load()) {
            if (http.PeerClosed()) {
              context.TryCancel();
              return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        }) {}
  ~HangupWatch() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

Gateway::Gateway(std::shared_ptr<grpc::Channel> channel, etcdserver::EtcdServer* server, std::string version)
    : channel_(std::move(channel)),
      server_(server),
      version_(std::move(version)),
      max_body_bytes_(server->options().max_request_bytes + kGrpcOverheadBytes) {
  using etcdserverpb::Auth;
  using etcdserverpb::Cluster;
  using etcdserverpb::KV;
  using etcdserverpb::Lease;
  using etcdserverpb::Maintenance;
  auto kv = std::make_shared<KV::Stub>(channel_);
  auto auth = std::make_shared<Auth::Stub>(channel_);
  auto lease = std::make_shared<Lease::Stub>(channel_);
  auto cluster = std::make_shared<Cluster::Stub>(channel_);
  auto maintenance = std::make_shared<Maintenance::Stub>(channel_);
  auto lock = std::make_shared<v3lockpb::Lock::Stub>(channel_);
  auto election = std::make_shared<v3electionpb::Election::Stub>(channel_);
  unary_ = {
      {"kv/range", Unary(kv, &KV::Stub::Range)},
      {"kv/put", Unary(kv, &KV::Stub::Put)},
      {"kv/deleterange", Unary(kv, &KV::Stub::DeleteRange)},
      {"kv/txn", Unary(kv, &KV::Stub::Txn)},
      {"kv/compaction", Unary(kv, &KV::Stub::Compact)},
      {"lease/grant", Unary(lease, &Lease::Stub::LeaseGrant)},
      {"lease/revoke", Unary(lease, &Lease::Stub::LeaseRevoke)},
      {"kv/lease/revoke", Unary(lease, &Lease::Stub::LeaseRevoke)},
      {"lease/timetolive", Unary(lease, &Lease::Stub::LeaseTimeToLive)},
      {"kv/lease/timetolive", Unary(lease, &Lease::Stub::LeaseTimeToLive)},
      {"lease/leases", Unary(lease, &Lease::Stub::LeaseLeases)},
      {"kv/lease/leases", Unary(lease, &Lease::Stub::LeaseLeases)},
      {"cluster/member/add", Unary(cluster, &Cluster::Stub::MemberAdd)},
      {"cluster/member/remove", Unary(cluster, &Cluster::Stub::MemberRemove)},
      {"cluster/member/update", Unary(cluster, &Cluster::Stub::MemberUpdate)},
      {"cluster/member/list", Unary(cluster, &Cluster::Stub::MemberList)},
      {"cluster/member/promote", Unary(cluster, &Cluster::Stub::MemberPromote)},
      {"maintenance/alarm", Unary(maintenance, &Maintenance::Stub::Alarm)},
      {"maintenance/status", Unary(maintenance, &Maintenance::Stub::Status)},
      {"maintenance/defragment", Unary(maintenance, &Maintenance::Stub::Defragment)},
      {"maintenance/hashkv", Unary(maintenance, &Maintenance::Stub::HashKV)},
      {"maintenance/transfer-leadership", Unary(maintenance, &Maintenance::Stub::MoveLeader)},
      {"lock/lock", Unary(lock, &v3lockpb::Lock::Stub::Lock)},
      {"lock/unlock", Unary(lock, &v3lockpb::Lock::Stub::Unlock)},
      {"election/campaign", Unary(election, &v3electionpb::Election::Stub::Campaign)},
      {"election/proclaim", Unary(election, &v3electionpb::Election::Stub::Proclaim)},
      {"election/leader", Unary(election, &v3electionpb::Election::Stub::Leader)},
      {"election/resign", Unary(election, &v3electionpb::Election::Stub::Resign)},
      {"auth/enable", Unary(auth, &Auth::Stub::AuthEnable)},
      {"auth/disable", Unary(auth, &Auth::Stub::AuthDisable)},
      {"auth/status", Unary(auth, &Auth::Stub::AuthStatus)},
      {"auth/authenticate", Unary(auth, &Auth::Stub::Authenticate)},
      {"auth/user/add", Unary(auth, &Auth::Stub::UserAdd)},
      {"auth/user/get", Unary(auth, &Auth::Stub::UserGet)},
      {"auth/user/list", Unary(auth, &Auth::Stub::UserList)},
      {"auth/user/delete", Unary(auth, &Auth::Stub::UserDelete)},
      {"auth/user/changepw", Unary(auth, &Auth::Stub::UserChangePassword)},
      {"auth/user/grant", Unary(auth, &Auth::Stub::UserGrantRole)},
      {"auth/user/revoke", Unary(auth, &Auth::Stub::UserRevokeRole)},
      {"auth/role/add", Unary(auth, &Auth::Stub::RoleAdd)},
      {"auth/role/get", Unary(auth, &Auth::Stub::RoleGet)},
      {"auth/role/list", Unary(auth, &Auth::Stub::RoleList)},
      {"auth/role/delete", Unary(auth, &Auth::Stub::RoleDelete)},
      {"auth/role/grant", Unary(auth, &Auth::Stub::RoleGrantPermission)},
      {"auth/role/revoke", Unary(auth, &Auth::Stub::RoleRevokePermission)},
  };
}

void Gateway::Serve(int fd) { ServeWith(fd, &Gateway::Dispatch); }

void Gateway::ServeMonitoring(int fd) { ServeWith(fd, &Gateway::DispatchMonitoringOnly); }

void Gateway::ServeWith(int fd, bool (Gateway::*dispatch)(const HttpRequest&, HttpConnection&)) {
  HttpConnection http(fd, max_body_bytes_);
  HttpRequest request;
  while (http.Read(&request)) {
    if (!(this->*dispatch)(request, http) || !request.keep_alive) return;
  }
}

std::optional<bool> Gateway::DispatchMonitoring(const HttpRequest& request, HttpConnection& http) {
  const std::string& path = request.path;
  if (path == "/version") {
    return http.Respond(200, kJson, "{\"etcdserver\":\"" + version_ + "\",\"etcdcluster\":\"" + version_ + "\"}",
                        request.keep_alive);
  }
  if (path == "/health") return Health(request, http);
  if (path == "/livez") return Live(request, http);
  if (path == "/readyz") return Ready(request, http);
  if (path == "/metrics") {
    return http.Respond(200, "text/plain; version=0.0.4", RenderMetrics(*server_, version_), request.keep_alive);
  }
  return std::nullopt;
}

bool Gateway::DispatchMonitoringOnly(const HttpRequest& request, HttpConnection& http) {
  if (auto answered = DispatchMonitoring(request, http)) return *answered;
  return http.Respond(404, "text/plain", "404 page not found\n", request.keep_alive);
}

bool Gateway::Dispatch(const HttpRequest& request, HttpConnection& http) {
  if (auto answered = DispatchMonitoring(request, http)) return *answered;
  const std::string& path = request.path;
  std::string method;
  for (const char* prefix : {"/v3/", "/v3beta/", "/v3alpha/"}) {
    if (path.starts_with(prefix)) method = path.substr(std::string(prefix).size());
  }
  if (method.empty()) return http.Respond(404, "text/plain", "404 page not found\n", request.keep_alive);
  if (request.method != "POST") {
    return http.Respond(405, "text/plain", "Method Not Allowed\n", request.keep_alive);
  }
  if (method == "watch") return Watch(request, http);
  if (method == "lease/keepalive") return KeepAlive(request, http);
  auto it = unary_.find(method);
  if (it == unary_.end()) return http.Respond(404, "text/plain", "404 page not found\n", request.keep_alive);
  return it->second(request, http);
}

bool Gateway::Health(const HttpRequest& request, HttpConnection& http) {
  std::string reason;
  if (server_->Leader() == 0) {
    reason = "RAFT NO LEADER";
  } else if (!server_->Published()) {
    // Clients routed here could not yet find it by its client URLs in MemberList.
    reason = "NOT PUBLISHED";
  } else if (auto alarms = server_->RaisedAlarms(); !alarms.empty()) {
    reason = "ALARM " + etcdserverpb::AlarmType_Name(alarms.front().alarm());
  } else if (!server_->ReadBarrier().ok()) {
    reason = "QGET ERROR";
  }
  return RespondCheck(request, http, reason);
}

// etcd 3.6's probes, for orchestrators. Alive: the member answers a serializable read,
// whatever the cluster's state, so a liveness probe never restarts a member for a
// partition, a lost leader or a long defragmentation (reads go on during one). Ready: it
// can serve a client now, so a Service may send it traffic: a leader is known, it is a
// voter (learners refuse writes and linearizable reads) and a linearizable read is
// answered. Unlike /health, a NOSPACE alarm leaves a member ready: clients must reach it
// to delete, compact and disarm; a CORRUPT alarm does not.
bool Gateway::Live(const HttpRequest& request, HttpConnection& http) {
  return RespondCheck(request, http, server_->LocalReadBarrier().ok() ? "" : "SERIALIZABLE READ ERROR");
}

bool Gateway::Ready(const HttpRequest& request, HttpConnection& http) {
  std::string reason;
  if (server_->IsLearner()) {
    reason = "LEARNER";
  } else if (server_->Leader() == 0) {
    reason = "RAFT NO LEADER";
  } else if (auto alarms = server_->RaisedAlarms();
             std::any_of(alarms.begin(), alarms.end(), [](const auto& a) { return a.alarm() == etcdserverpb::CORRUPT; })) {
    reason = "ALARM CORRUPT";
  } else if (!server_->ReadBarrier().ok()) {
    reason = "QGET ERROR";
  }
  return RespondCheck(request, http, reason);
}

bool Gateway::RespondCheck(const HttpRequest& request, HttpConnection& http, const std::string& failure) {
  const bool ok = failure.empty();
  return http.Respond(ok ? 200 : 503, kJson,
                      std::string("{\"health\":\"") + (ok ? "true" : "false") + "\",\"reason\":" + Quoted(failure) + "}",
                      request.keep_alive);
}

bool Gateway::Watch(const HttpRequest& request, HttpConnection& http) {
  etcdserverpb::WatchRequest in;
  if (grpc::Status st = FromJson(request.body, &in); !st.ok()) return RespondError(http, st, request.keep_alive);
  etcdserverpb::Watch::Stub stub(channel_);
  grpc::ClientContext context;
  ForwardToken(request, context);
  auto stream = stub.Watch(&context);
  if (!stream->Write(in)) {
    context.TryCancel();
    return RespondError(http, stream->Finish(), request.keep_alive);
  }
  if (!http.StartChunked(200, kJson)) {
    context.TryCancel();
    (void)stream->Finish();
    return false;
  }
  bool client_there = true;
  {
    HangupWatch hangup(http, context);
    etcdserverpb::WatchResponse out;
    while (stream->Read(&out)) {
      if (!http.Chunk("{\"result\":" + ToJson(out) + "}\n")) {
        client_there = false;
        context.TryCancel();
        break;
      }
    }
  }
  const grpc::Status st = stream->Finish();
  // A watch ends only when the client leaves (or the server stops): no trailer is owed.
  if (!client_there || http.PeerClosed()) return false;
  if (!st.ok()) (void)http.Chunk("{\"error\":" + ErrorBody(st) + "}\n");
  return http.EndChunked() && request.keep_alive;
}

bool Gateway::KeepAlive(const HttpRequest& request, HttpConnection& http) {
  etcdserverpb::LeaseKeepAliveRequest in;
  if (grpc::Status st = FromJson(request.body, &in); !st.ok()) return RespondError(http, st, request.keep_alive);
  etcdserverpb::Lease::Stub stub(channel_);
  grpc::ClientContext context;
  ForwardToken(request, context);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub.LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveResponse out;
  const bool answered = stream->Write(in) && stream->Read(&out);
  stream->WritesDone();
  context.TryCancel();
  const grpc::Status st = stream->Finish();
  if (!answered) {
    const grpc::Status error = st.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "no keep-alive response") : st;
    return RespondError(http, error, request.keep_alive);
  }
  return http.StartChunked(200, kJson) && http.Chunk("{\"result\":" + ToJson(out) + "}\n") && http.EndChunked() &&
         request.keep_alive;
}

}  // namespace cairn::gateway
