#include "server/api/caller.h"

#include <grpcpp/security/auth_context.h>

#include <future>
#include <memory>

#include "server/auth/errors.h"

namespace cairn::api {
namespace {

std::optional<std::string> TokenOf(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  for (const char* name : {"token", "authorization"}) {
    auto it = md.find(name);
    if (it != md.end()) return std::string(it->second.data(), it->second.size());
  }
  return std::nullopt;
}

std::string CertificateCommonName(const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  auto names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  return names.empty() ? "" : std::string(names.front().data(), names.front().size());
}

// A proposal refused for an old auth revision is tried again for as long as its call
// lives. Each try is one Raft round, and it loses only to an auth change applied
// between resolving the caller and applying the request, so a fixed number of tries can
// all lose to a client that keeps changing the auth store. etcd 3.4.23 was seen
// answering the error instead: clientv3 retries it, other clients fail.
void ProposeAttempt(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context,
                    cairnpb::RaftRequest request, etcdserver::ApplyCallback done) {
  auto caller = CallerOf(server, context);
  if (!caller.ok()) return done(caller.status());
  request.mutable_header()->set_username(caller->user);
  request.mutable_header()->set_auth_revision(caller->revision);
  server.ProposeAsync(request, [&server, &context, request, done = std::move(done)](etcdserver::ApplyResult result) mutable {
    if (result.status() == auth::ErrAuthOldRevision() && !context.IsCancelled() &&
        std::chrono::system_clock::now() < context.deadline()) {
      return ProposeAttempt(server, context, std::move(request), std::move(done));
    }
    done(std::move(result));
  });
}

}  // namespace

Result<auth::AuthInfo> CallerOf(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context) {
  const auth::AuthStore& store = server.auth_store();
  const uint64_t revision = store.revision();
  if (auto token = TokenOf(context)) {
    auto info = server.tokens().Info(*token, revision);
    if (!info) return auth::ErrInvalidAuthToken();
    return std::move(*info);
  }
  if (server.options().client_tls.client_cert_auth) {
    std::string cn = CertificateCommonName(context);
    if (!cn.empty()) return auth::AuthInfo{std::move(cn), revision};
  }
  return auth::AuthInfo{"", revision};
}

Status CheckAdmin(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context) {
  auto caller = CallerOf(server, context);
  if (!caller.ok()) return caller.status();
  return server.auth_store().IsAdminPermitted(*caller);
}

void ProposeAsCaller(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context,
                     cairnpb::RaftRequest request, etcdserver::ApplyCallback done) {
  ProposeAttempt(server, context, std::move(request), std::move(done));
}

etcdserver::ApplyResult ProposeAsCallerAndWait(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context,
                                               cairnpb::RaftRequest request) {
  auto promise = std::make_shared<std::promise<etcdserver::ApplyResult>>();
  auto future = promise->get_future();
  ProposeAsCaller(server, context, std::move(request),
                  [promise](etcdserver::ApplyResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace cairn::api
