// EtcdServer's snapshots: what a member too far behind for the leader's log receives
// instead. The leader copies its store (a consistent SQLite copy at one applied index)
// on a sender thread and streams it with a MsgSnap; the follower verifies it, swaps its
// store for it on the apply loop, and only then lets Raft see the MsgSnap, so the WAL
// marker that Raft's Ready asks for never points past what the store holds.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "server/etcdserver/bootstrap.h"
#include "server/etcdserver/errors.h"
#include "server/etcdserver/server.h"
#include "server/etcdserver/store_meta.h"
#include "server/raft/codec.h"

namespace cairn::etcdserver {

void EtcdServer::SendSnapshot(const raft::Message& snapshot) {
  const uint64_t to = snapshot.to;
  const uint64_t term = snapshot.term;
  // The node asks again for a peer only after the last send's report, which that
  // sender thread made just before it ended.
  if (auto done = snapshot_senders_.find(to); done != snapshot_senders_.end()) {
    done->second.join();
    snapshot_senders_.erase(done);
  }
  auto member = membership_.Get(to);
  if (!member) {
    node_->ReportSnapshot(to, false);
    return;
  }
  std::vector<std::string> urls(member->peer_urls().begin(), member->peer_urls().end());
  snapshot_senders_[to] = std::thread([this, to, urls, term] {
    const std::string path = SnapshotDir() + "/outgoing-" + HexId(to) + ".db";
    std::remove(path.c_str());
    bool sent = false;
    auto copy = store_->CopyTo(path);
    auto md = copy.ok() ? SnapshotMetadataFor(copy->applied_index, copy->meta) : Result<raft::SnapshotMetadata>(copy.status());
    if (!md.ok()) {
      spdlog::warn("cannot snapshot the store for member {}: {}", HexId(to), md.status().message());
    } else {
      raft::Message m;
      m.type = raft::MessageType::MsgSnap;
      m.from = identity_.member_id;
      m.to = to;
      m.term = term;
      m.snapshot.metadata = md.value();
      std::error_code ec;
      const auto bytes = std::filesystem::file_size(path, ec);
      spdlog::info("sending a snapshot at index {} ({} bytes) to member {}", md->index, ec ? 0 : bytes, HexId(to));
      Status st = peer_client_.SendSnapshot(urls, identity_.cluster_id, raft::EncodeMessage(m), path,
                                            [this] { return cancel_snapshot_sends_.load(); });
      sent = st.ok();
      if (sent) {
        spdlog::info("member {} installed the snapshot at index {}", HexId(to), md->index);
      } else {
        spdlog::warn("sending a snapshot to member {} failed: {}", HexId(to), st.message());
      }
    }
    std::remove(path.c_str());
    node_->ReportSnapshot(to, sent);
  });
}

std::string EtcdServer::SnapshotScratchPath() { return SnapshotDir() + "/incoming.db"; }

Status EtcdServer::InstallSnapshot(raft::Message message, const std::string& path) {
  if (message.snapshot.metadata.index <= entry_applier_->applied_index()) {
    // Already have it (a retried send): Raft answers with where this member is.
    std::remove(path.c_str());
    return DeliverFromPeer(std::move(message));
  }
  CAIRN_RETURN_IF_ERROR(apply_loop_->Install(path));
  return DeliverFromPeer(std::move(message));
}

}  // namespace cairn::etcdserver
