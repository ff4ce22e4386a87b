#include "operator/tests/fake_apiserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstring>
#include <sstream>

namespace cairn::op::testing {
namespace {

using json = nlohmann::json;

const std::vector<const kube::ResourceType*>& KnownTypes() {
  static const std::vector<const kube::ResourceType*> t = {
      &kube::types::EtcdCluster(), &kube::types::EtcdBackup(), &kube::types::Service(), &kube::types::ConfigMap(),
      &kube::types::StatefulSet(), &kube::types::PodDisruptionBudget(), &kube::types::PersistentVolumeClaim(),
      &kube::types::Pod(), &kube::types::Lease(), &kube::types::Event(), &kube::types::Secret(),
      &kube::types::CertManagerCertificate()};
  return t;
}

std::string Collection(const kube::ResourceType& t) { return t.api_prefix + "|" + t.plural; }
std::string Key(const kube::ResourceType& t, const std::string& ns, const std::string& name) {
  return Collection(t) + "|" + ns + "|" + name;
}

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

json StatusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
          {"message", message}, {"reason", reason}, {"code", code}};
}

bool MatchesSelector(const json& obj, const std::string& selector) {
  if (selector.empty()) return true;
  std::stringstream ss(selector);
  std::string term;
  while (std::getline(ss, term, ',')) {
    auto eq = term.find('=');
    if (eq == std::string::npos) return false;
    std::string k = term.substr(0, eq), v = term.substr(eq + 1);
    if (!v.empty() && v[0] == '=') v.erase(0, 1);  // "==" is equality too
    auto labels = obj["metadata"].value("labels", json::object());
    if (!labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

// Everything a user may change outside metadata and status: what bumps generation.
json SpecPart(json obj) {
  obj.erase("metadata");
  obj.erase("status");
  return obj;
}

}  // namespace

// One accepted connection, plain or TLS.
struct FakeApiServer::Conn {
  int fd;
  SSL* ssl = nullptr;
  ssize_t Read(char* buf, size_t n) {
    if (ssl) return SSL_read(ssl, buf, static_cast<int>(n));
    return ::recv(fd, buf, n, 0);
  }
  bool Write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ssl ? SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off))
                      : ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
};

namespace {

std::string Chunk(const std::string& data) {
  std::ostringstream ss;
  ss << std::hex << data.size() << "\r\n" << data << "\r\n";
  return ss.str();
}

}  // namespace

struct FakeApiServer::Request {
  std::string method, path;
  std::map<std::string, std::string> query, headers;
  std::string body;
};

struct FakeApiServer::Reply {
  int code = 200;
  json body;
  bool watch = false;
  const kube::ResourceType* type = nullptr;
  std::string ns;
};

FakeApiServer::FakeApiServer() : FakeApiServer(Options{}) {}

FakeApiServer::FakeApiServer(Options options) : options_(std::move(options)) {
  if (!options_.tls_cert_pem.empty()) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    BIO* cert = BIO_new_mem_buf(options_.tls_cert_pem.data(), static_cast<int>(options_.tls_cert_pem.size()));
    BIO* key = BIO_new_mem_buf(options_.tls_key_pem.data(), static_cast<int>(options_.tls_key_pem.size()));
    X509* x = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    EVP_PKEY* k = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    if (!x || !k || SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1) {
      Panic("fake apiserver: bad TLS certificate or key");
    }
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cert);
    BIO_free(key);
    tls_ = ctx;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 64) != 0) {
    Panic("fake apiserver: cannot listen");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeApiServer::~FakeApiServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::map<uint64_t, std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  changed_.notify_all();
  for (auto& [id, t] : workers) t.join();
  if (tls_) SSL_CTX_free(static_cast<SSL_CTX*>(tls_));
}

std::string FakeApiServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

kube::KubeConfig FakeApiServer::Config() const {
  kube::KubeConfig c;
  c.server = url();
  c.token = options_.token;
  c.ca_pem = options_.tls_cert_pem;
  c.namespace_ = "default";
  return c;
}

void FakeApiServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    // Join connection threads that have finished, so long tests do not pile them up.
    std::vector<std::thread> finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint64_t id : finished_) {
        finished.push_back(std::move(workers_[id]));
        workers_.erase(id);
      }
      finished_.clear();
      if (stopping_) {
        ::close(fd);
        break;
      }
      conns_.insert(fd);
      const uint64_t id = next_worker_++;
      workers_[id] = std::thread([this, fd, id] { Serve(fd, id); });
    }
    for (auto& t : finished) t.join();
  }
}

void FakeApiServer::Serve(int fd, uint64_t id) {
  Conn conn{fd};
  if (tls_) {
    conn.ssl = SSL_new(static_cast<SSL_CTX*>(tls_));
    SSL_set_fd(conn.ssl, fd);
    if (SSL_accept(conn.ssl) != 1) {
      SSL_free(conn.ssl);
      std::lock_guard<std::mutex> lock(mu_);
      conns_.erase(fd);
      ::close(fd);
      finished_.push_back(id);
      return;
    }
  }
  std::string buf;
  char tmp[8192];
  // Each connection carries one request; "Connection: close" tells the client so.
  size_t header_end;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = conn.Read(tmp, sizeof(tmp));
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  Request req;
  bool ok = header_end != std::string::npos;
  if (ok) {
    std::istringstream head(buf.substr(0, header_end));
    std::string line, target;
    std::getline(head, line);
    std::istringstream rl(line);
    rl >> req.method >> target;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon), v = line.substr(colon + 1);
      for (auto& c : k) c = static_cast<char>(std::tolower(c));
      while (!v.empty() && v[0] == ' ') v.erase(0, 1);
      req.headers[k] = v;
    }
    auto q = target.find('?');
    req.path = UrlDecode(target.substr(0, q));
    if (q != std::string::npos) {
      std::stringstream qs(target.substr(q + 1));
      std::string kv;
      while (std::getline(qs, kv, '&')) {
        auto eq = kv.find('=');
        req.query[UrlDecode(kv.substr(0, eq))] = eq == std::string::npos ? "" : UrlDecode(kv.substr(eq + 1));
      }
    }
    size_t want = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    req.body = buf.substr(header_end + 4);
    while (req.body.size() < want) {
      ssize_t n = conn.Read(tmp, sizeof(tmp));
      if (n <= 0) break;
      req.body.append(tmp, static_cast<size_t>(n));
    }
  }
  if (ok) {
    Reply r = Handle(req);
    if (r.watch && r.code == 200) {
      ServeWatch(conn, req, *r.type, r.ns);
    } else {
      std::string body = r.body.dump();
      std::string head = "HTTP/1.1 " + std::to_string(r.code) + " X\r\nContent-Type: application/json\r\n" +
                         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
      conn.Write(head + body);
    }
  }
  if (conn.ssl) {
    SSL_shutdown(conn.ssl);
    SSL_free(conn.ssl);
  }
  std::lock_guard<std::mutex> lock(mu_);
  conns_.erase(fd);
  ::close(fd);
  finished_.push_back(id);
}

FakeApiServer::Reply FakeApiServer::Handle(const Request& req) {
  auto fail = [](int code, const std::string& reason, const std::string& msg) {
    Reply r;
    r.code = code;
    r.body = StatusBody(code, reason, msg);
    return r;
  };
  std::unique_lock<std::mutex> lock(mu_);
  // Watches are logged as "WATCH <path>" so tests can tell them from lists.
  auto wq = req.query.find("watch");
  bool is_watch = req.method == "GET" && wq != req.query.end() && (wq->second == "true" || wq->second == "1");
  std::string line = (is_watch ? "WATCH" : req.method) + " " + req.path;
  log_.push_back(line);
  for (auto it = injected_.begin(); it != injected_.end(); ++it) {
    if (line.rfind(it->prefix, 0) == 0) {
      Reply r = fail(it->code, it->reason, "injected");
      if (--it->times == 0) injected_.erase(it);
      return r;
    }
  }
  auto auth = req.headers.find("authorization");
  if (auth == req.headers.end() || auth->second != "Bearer " + options_.token) {
    return fail(401, "Unauthorized", "Unauthorized");
  }

  // Route: prefix, [namespaces/NS/], plural, [name], [status].
  std::vector<std::string> seg;
  {
    std::stringstream ss(req.path);
    std::string s;
    while (std::getline(ss, s, '/')) if (!s.empty()) seg.push_back(s);
  }
  std::string prefix;
  size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    prefix = "/api/" + seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    prefix = "/apis/" + seg[1] + "/" + seg[2];
    i = 3;
  } else {
    return fail(404, "NotFound", "the server could not find the requested resource");
  }
  std::string ns;
  if (i + 2 < seg.size() && seg[i] == "namespaces") {
    ns = seg[i + 1];
    i += 2;
  }
  if (i >= seg.size()) return fail(404, "NotFound", "the server could not find the requested resource");
  const kube::ResourceType* type = nullptr;
  for (const auto* t : KnownTypes()) {
    if (t->api_prefix == prefix && t->plural == seg[i]) type = t;
  }
  if (!type) return fail(404, "NotFound", "the server could not find the requested resource");
  std::string name = i + 1 < seg.size() ? seg[i + 1] : "";
  std::string sub = i + 2 < seg.size() ? seg[i + 2] : "";
  if (!sub.empty() && (sub != "status" || !type->status_subresource)) {
    return fail(404, "NotFound", "the server could not find the requested resource");
  }
  const std::string what = type->plural + " \"" + name + "\"";
  {
    // What RBAC would have to allow: the API group, resource[/subresource] and verb.
    const std::string group = prefix.rfind("/apis/", 0) == 0 ? seg[1] : "";
    const bool watch = req.query.count("watch") && (req.query.at("watch") == "true" || req.query.at("watch") == "1");
    std::string verb = req.method == "POST" ? "create" : req.method == "PUT" ? "update" : req.method == "PATCH" ? "patch"
                       : req.method == "DELETE"                                         ? "delete"
                       : !name.empty()                                                  ? "get"
                       : watch                                                          ? "watch"
                                                                                        : "list";
    rbac_uses_.insert({group, type->plural + (sub.empty() ? "" : "/" + sub), verb});
  }

  if (req.method == "GET" && name.empty()) {
    auto w = req.query.find("watch");
    if (w != req.query.end() && (w->second == "true" || w->second == "1")) {
      auto rvq = req.query.find("resourceVersion");
      if (rvq != req.query.end() && !rvq->second.empty() && rvq->second != "0" &&
          std::stoll(rvq->second) < compacted_rv_ && options_.expiry_as_http_410) {
        return fail(410, "Expired", "too old resource version: " + rvq->second + " (" + std::to_string(compacted_rv_) + ")");
      }
      Reply r;
      r.watch = true;
      r.type = type;
      r.ns = ns;
      return r;
    }
    std::string selector = req.query.count("labelSelector") ? req.query.at("labelSelector") : "";
    json items = json::array();
    for (const auto& [k, obj] : objects_) {
      if (k.rfind(Collection(*type) + "|" + (ns.empty() ? "" : ns + "|"), 0) != 0) continue;
      if (MatchesSelector(obj, selector)) items.push_back(obj);
    }
    Reply r;
    r.body = {{"kind", type->kind + "List"}, {"apiVersion", type->ApiVersion()},
              {"metadata", {{"resourceVersion", std::to_string(rv_)}}}, {"items", items}};
    return r;
  }
  if (name.empty() && req.method != "POST") return fail(405, "MethodNotAllowed", "method not allowed");

  json body;
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || (req.method == "DELETE" && !req.body.empty())) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return fail(400, "BadRequest", "body is not a JSON object");
  }
  const std::string key = Key(*type, ns, name);
  auto existing = objects_.find(key);

  if (req.method == "GET") {
    if (existing == objects_.end()) return fail(404, "NotFound", what + " not found");
    Reply r;
    r.body = existing->second;
    return r;
  }
  if (req.method == "POST") {
    if (!body.contains("metadata") || !body["metadata"].is_object()) body["metadata"] = json::object();
    std::string n = body["metadata"].value("name", "");
    if (n.empty()) return fail(422, "Invalid", type->kind + " is invalid: metadata.name: Required value");
    std::string bns = body["metadata"].value("namespace", ns);
    if (bns != ns) return fail(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
    if (type == &kube::types::Event()) {
      // The API server's legacy Event validation: an Event lives in its object's namespace.
      std::string involved = body.value("involvedObject", json::object()).value("namespace", "");
      if (involved != ns) {
        return fail(422, "Invalid", "Event \"" + n + "\" is invalid: involvedObject.namespace: Invalid value: \"" +
                                        involved + "\": does not match event.namespace");
      }
    }
    std::string k = Key(*type, ns, n);
    if (objects_.count(k)) return fail(409, "AlreadyExists", type->plural + " \"" + n + "\" already exists");
    body["metadata"]["namespace"] = ns;
    body["metadata"]["uid"] = "uid-" + std::to_string(++uid_seq_) + "-0000-0000";
    body["metadata"]["generation"] = 1;
    body["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
    body["metadata"].erase("deletionTimestamp");
    if (type->status_subresource) body.erase("status");
    Reply r;
    r.code = 201;
    r.body = CommitLocked(k, *type, ns, body, "ADDED");
    return r;
  }
  if (existing == objects_.end()) return fail(404, "NotFound", what + " not found");
  const json old = existing->second;

  if (req.method == "DELETE") {
    const std::string want_uid = body.value("preconditions", json::object()).value("uid", "");
    if (!want_uid.empty() && want_uid != old["metadata"].value("uid", "")) {
      return fail(409, "Conflict", "Operation cannot be fulfilled on " + what + ": Precondition failed: UID in precondition: " +
                                       want_uid + ", UID in object meta: " + old["metadata"].value("uid", ""));
    }
    if (!old["metadata"].value("finalizers", json::array()).empty()) {
      json obj = old;
      obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
      Reply r;
      r.body = CommitLocked(key, *type, ns, obj, "MODIFIED");
      return r;
    }
    CommitLocked(key, *type, ns, old, "DELETED");
    Reply r;
    r.body = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}};
    return r;
  }

  // PUT and PATCH: the resulting object, then the optimistic-concurrency precondition.
  json next;
  std::string precondition = body.value("metadata", json::object()).value("resourceVersion", "");
  if (req.method == "PATCH") {
    auto ct = req.headers.count("content-type") ? req.headers.at("content-type") : "";
    if (ct.rfind("application/merge-patch+json", 0) != 0) return fail(415, "UnsupportedMediaType", "unsupported patch type " + ct);
    next = old;
    next.merge_patch(body);
  } else {
    if (body.value("metadata", json::object()).value("name", "") != name) return fail(400, "BadRequest", "the name of the object does not match the name on the URL");
    if (precondition.empty() && type->IsCustom()) {
      return fail(422, "Invalid", type->kind + " \"" + name + "\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
    }
    next = body;
  }
  if (req.method != "PATCH" || precondition.size()) {
    if (!precondition.empty() && precondition != old["metadata"]["resourceVersion"].get<std::string>()) {
      return fail(409, "Conflict", "Operation cannot be fulfilled on " + what +
                                       ": the object has been modified; please apply your changes to the latest version and try again");
    }
  }
  if (sub == "status") {
    json status = next.value("status", json());
    next = old;
    if (status.is_null()) next.erase("status"); else next["status"] = status;
  } else if (type->status_subresource) {
    if (old.contains("status")) next["status"] = old["status"]; else next.erase("status");
  }
  // Server-owned metadata survives whatever the client sent.
  for (const char* f : {"uid", "creationTimestamp", "generation", "deletionTimestamp", "namespace"}) {
    if (old["metadata"].contains(f)) next["metadata"][f] = old["metadata"][f]; else next["metadata"].erase(f);
  }
  next["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"];
  if (next == old) {
    Reply r;
    r.body = old;
    return r;
  }
  if (SpecPart(next) != SpecPart(old)) next["metadata"]["generation"] = old["metadata"].value("generation", 0) + 1;
  Reply r;
  r.body = CommitLocked(key, *type, ns, next, "MODIFIED");
  return r;
}

json FakeApiServer::CommitLocked(const std::string& key, const kube::ResourceType& type, const std::string& ns,
                                 json object, const char* event_type) {
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  object["kind"] = type.kind;
  object["apiVersion"] = type.ApiVersion();
  if (std::string(event_type) == "DELETED") {
    objects_.erase(key);
  } else {
    objects_[key] = object;
  }
  history_.push_back(Event{rv_, Collection(type), ns, event_type, object});
  changed_.notify_all();
  return object;
}

void FakeApiServer::ServeWatch(Conn& conn, const Request& req, const kube::ResourceType& type, const std::string& ns) {
  const std::string selector = req.query.count("labelSelector") ? req.query.at("labelSelector") : "";
  const bool bookmarks = req.query.count("allowWatchBookmarks") && req.query.at("allowWatchBookmarks") == "true";
  const int timeout = req.query.count("timeoutSeconds") ? std::stoi(req.query.at("timeoutSeconds")) : 1800;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  const std::string rvq = req.query.count("resourceVersion") ? req.query.at("resourceVersion") : "";

  if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n")) {
    return;
  }
  auto send_event = [&](const std::string& t, const json& obj) {
    return conn.Write(Chunk(json{{"type", t}, {"object", obj}}.dump() + "\n"));
  };
  auto matches = [&](const Event& e) {
    return e.collection == Collection(type) && (ns.empty() || e.ns == ns) && MatchesSelector(e.object, selector);
  };

  std::unique_lock<std::mutex> lock(mu_);
  ++open_watches_;
  int64_t sent_rv;
  bool alive = true;
  if (rvq.empty() || rvq == "0") {
    // No start version: the current state as synthetic ADDED events, then changes.
    sent_rv = rv_;
    for (const auto& [k, obj] : objects_) {
      if (k.rfind(Collection(type) + "|" + (ns.empty() ? "" : ns + "|"), 0) != 0 || !MatchesSelector(obj, selector)) continue;
      alive = alive && send_event("ADDED", obj);
    }
  } else {
    sent_rv = std::stoll(rvq);
    if (sent_rv < compacted_rv_) {
      send_event("ERROR", StatusBody(410, "Expired", "too old resource version: " + rvq + " (" + std::to_string(compacted_rv_) + ")"));
      alive = false;
    }
  }
  uint64_t bookmark_seen = bookmark_gen_, close_seen = close_gen_;
  while (alive && !stopping_ && close_seen == close_gen_ && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : history_) {
      if (e.rv > sent_rv && matches(e)) alive = alive && send_event(e.type, e.object);
    }
    sent_rv = std::max(sent_rv, rv_);
    if (bookmark_seen != bookmark_gen_) {
      bookmark_seen = bookmark_gen_;
      if (bookmarks) {
        alive = alive && send_event("BOOKMARK", {{"kind", type.kind}, {"apiVersion", type.ApiVersion()},
                                                 {"metadata", {{"resourceVersion", std::to_string(rv_)}}}});
      }
    }
    changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)));
  }
  --open_watches_;
  lock.unlock();
  if (alive) conn.Write("0\r\n\r\n");
}

json FakeApiServer::Upsert(const kube::ResourceType& type, const std::string& ns, json object) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = object["metadata"]["name"].get<std::string>();
  const std::string key = Key(type, ns, name);
  auto it = objects_.find(key);
  object["metadata"]["namespace"] = ns;
  if (it == objects_.end()) {
    object["metadata"]["uid"] = "uid-" + std::to_string(++uid_seq_) + "-0000-0000";
    object["metadata"]["generation"] = 1;
    if (!object["metadata"].contains("creationTimestamp")) object["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
    return CommitLocked(key, type, ns, object, "ADDED");
  }
  for (const char* f : {"uid", "generation"}) object["metadata"][f] = it->second["metadata"][f];
  return CommitLocked(key, type, ns, object, "MODIFIED");
}

void FakeApiServer::Remove(const kube::ResourceType& type, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(Key(type, ns, name));
  if (it != objects_.end()) CommitLocked(it->first, type, ns, it->second, "DELETED");
}

std::optional<json> FakeApiServer::Object(const kube::ResourceType& type, const std::string& ns,
                                          const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(Key(type, ns, name));
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> FakeApiServer::Objects(const kube::ResourceType& type, const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<json> out;
  for (const auto& [k, obj] : objects_) {
    if (k.rfind(Collection(type) + "|" + ns + "|", 0) == 0) out.push_back(obj);
  }
  return out;
}

void FakeApiServer::Bookmark() {
  std::lock_guard<std::mutex> lock(mu_);
  ++bookmark_gen_;
  changed_.notify_all();
}

void FakeApiServer::Compact() {
  std::lock_guard<std::mutex> lock(mu_);
  compacted_rv_ = rv_;
  history_.clear();
}

void FakeApiServer::CloseWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++close_gen_;
  changed_.notify_all();
}

void FakeApiServer::ClearInjectedErrors() {
  std::lock_guard<std::mutex> lock(mu_);
  injected_.clear();
}

void FakeApiServer::InjectError(const std::string& prefix, int code, const std::string& reason, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  injected_.push_back(Injected{prefix, code, reason, times});
}

int64_t FakeApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

int FakeApiServer::CountRequests(const std::string& prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& l : log_) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

std::set<FakeApiServer::RbacUse> FakeApiServer::RbacUses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rbac_uses_;
}

int FakeApiServer::open_watches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_watches_;
}

}  // namespace cairn::op::testing
