#include "server/gateway/metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace cairn::gateway {
namespace {

class Exposition {
 public:
  void Gauge(const std::string& name, const std::string& help, double value, const std::string& labels = "") {
    Metric(name, "gauge", help, value, labels);
  }
  void Counter(const std::string& name, const std::string& help, double value) {
    Metric(name, "counter", help, value, "");
  }
  void Histogram(const std::string& name, const std::string& help, const cairn::Histogram::Snapshot& s) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    out_.precision(17);
    for (size_t i = 0; i < s.bounds.size(); ++i) {
      out_ << name << "_bucket{le=\"" << s.bounds[i] << "\"} " << s.cumulative[i] << "\n";
    }
    out_ << name << "_bucket{le=\"+Inf\"} " << s.count << "\n";
    out_ << name << "_sum " << s.sum << "\n" << name << "_count " << s.count << "\n";
  }
  std::string Text() const { return out_.str(); }

 private:
  void Metric(const std::string& name, const char* type, const std::string& help, double value,
              const std::string& labels) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n" << name;
    if (!labels.empty()) out_ << "{" << labels << "}";
    out_.precision(17);
    out_ << " " << value << "\n";
  }
  std::ostringstream out_;
};

// /proc/self/stat fields (after the parenthesised command name), 1-based as in proc(5).
std::vector<std::string> SelfStat() {
  std::ifstream f("/proc/self/stat");
  std::string line;
  std::getline(f, line);
  // [0] unused, [1] pid, [2] comm; the fields after comm start at (3) state.
  std::vector<std::string> fields = {"", "", ""};
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return {};
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

}  // namespace

std::string RenderMetrics(etcdserver::EtcdServer& server, const std::string& version) {
  const etcdserver::MemberStatus s = server.GetStatus();
  const watch::WatchHub::Stats watch = server.watch_hub().GetStats();
  Exposition e;
  e.Gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", s.leader != 0);
  e.Gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
          s.leader == s.member_id);
  e.Gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", s.is_learner);
  e.Counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.",
            static_cast<double>(s.leader_changes));
  e.Gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
          static_cast<double>(s.commit_index));
  e.Gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
          static_cast<double>(s.applied_index));
  e.Gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
          static_cast<double>(s.quota_bytes));
  e.Gauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.",
          1, "server_version=\"" + version + "\"");
  e.Gauge("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version",
          1, "cluster_version=\"" + version.substr(0, version.rfind('.')) + "\"");
  e.Gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
          static_cast<double>(s.db_size));
  e.Gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
          static_cast<double>(s.db_size_in_use));
  e.Gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", static_cast<double>(s.revision));
  e.Gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
          static_cast<double>(s.compact_revision));
  e.Gauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.",
          static_cast<double>(watch.synced + watch.unsynced));
  e.Gauge("etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.",
          static_cast<double>(watch.unsynced));
  e.Histogram("etcd_disk_wal_fsync_duration_seconds",
              "The latency distributions of fsync called by WAL (in Cairn: one synced write of a batch).",
              server.wal_sync_seconds().Read());
  e.Histogram("etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.",
              server.backend_commit_seconds().Read());
  e.Gauge("etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.",
          static_cast<double>(watch.streams));

  const std::vector<std::string> stat = SelfStat();
  if (stat.size() > 24) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    e.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              (std::stod(stat[14]) + std::stod(stat[15])) / ticks);
    e.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", std::stod(stat[24]) * page);
    e.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(stat[23]));
  }
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  e.Gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(fds));
  return e.Text();
}

}  // namespace cairn::gateway
