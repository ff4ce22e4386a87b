#include "operator/kube/informer.h"

#include "operator/kube/backoff.h"

namespace cairn::op::kube {
namespace {

std::string KeyOf(const nlohmann::json& obj) {
  const auto& md = obj.at("metadata");
  return md.value("namespace", "") + "/" + md.value("name", "");
}

}  // namespace

Informer::Informer(Client& client, ResourceType type, InformerOptions options, Handler handler)
    : client_(client), type_(std::move(type)), options_(std::move(options)), handler_(std::move(handler)) {}

bool Informer::Sleep(std::stop_token stop, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

Status Informer::ListAndReplace() {
  auto listed = client_.List(type_, options_.ns, options_.label_selector);
  if (!listed.ok()) return listed.status();
  ++lists_;
  std::map<std::string, nlohmann::json> fresh;
  for (auto& item : listed->items) {
    std::string key = KeyOf(item);  // before the move: json's operator= takes its argument by value
    fresh[key] = std::move(item);
  }

  std::vector<std::pair<std::string, nlohmann::json>> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, old] : cache_) {
      if (!fresh.count(k)) changes.emplace_back("DELETED", old);
    }
    for (const auto& [k, obj] : fresh) {
      auto it = cache_.find(k);
      if (it == cache_.end()) {
        changes.emplace_back("ADDED", obj);
      } else if (it->second != obj) {
        changes.emplace_back("MODIFIED", obj);
      }
    }
    cache_ = std::move(fresh);
    rv_ = listed->resource_version;
  }
  synced_ = true;
  for (const auto& [t, obj] : changes) handler_(t, obj);
  return Status::Ok();
}

void Informer::Apply(const std::string& type, const nlohmann::json& object) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    rv_ = object["metadata"].value("resourceVersion", rv_);
    if (type == "BOOKMARK") return;
    if (type == "DELETED") {
      cache_.erase(KeyOf(object));
    } else {
      cache_[KeyOf(object)] = object;
    }
  }
  handler_(type, object);
}

void Informer::Run(std::stop_token stop) {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool need_list = true;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status s = ListAndReplace();
      if (!s.ok()) {
        if (!Sleep(stop, backoff.Next())) return;
        continue;
      }
      need_list = false;
    }
    WatchOptions w;
    w.resource_version = resource_version();
    w.label_selector = options_.label_selector;
    w.bookmarks = options_.bookmarks;
    w.timeout_seconds = options_.watch_timeout_seconds;
    int events = 0;
    auto started = std::chrono::steady_clock::now();
    Status s = client_.Watch(type_, options_.ns, w, [this, &events](const WatchEvent& e) {
      ++events;
      Apply(e.type, e.object);
    }, stop);
    if (stop.stop_requested()) return;
    if (s.ok()) {
      // A stream that ends at once with nothing in it is a server in trouble, not a
      // timeout: do not reconnect in a tight loop.
      bool suspicious = events == 0 && std::chrono::steady_clock::now() - started < std::chrono::seconds(1);
      if (!suspicious) {
        backoff.Reset();
      } else if (!Sleep(stop, backoff.Next())) {
        return;
      }
    } else if (s.code() == StatusCode::kOutOfRange) {
      need_list = true;  // our version is gone from the server's history
    } else if (!Sleep(stop, backoff.Next())) {
      return;
    }
  }
}

std::optional<nlohmann::json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Informer::List(const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& [k, obj] : cache_) {
    if (ns.empty() || k.rfind(ns + "/", 0) == 0) out.push_back(obj);
  }
  return out;
}

std::string Informer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

}  // namespace cairn::op::kube
