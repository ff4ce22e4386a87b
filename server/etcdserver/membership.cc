#include "server/etcdserver/membership.h"

#include <algorithm>
#include <utility>

namespace cairn::etcdserver {
namespace {

const cairnpb::Member* Find(const cairnpb::Membership& m, uint64_t id) {
  for (const auto& member : m.members()) {
    if (member.id() == id) return &member;
  }
  return nullptr;
}

cairnpb::Member* Find(cairnpb::Membership& m, uint64_t id) {
  return const_cast<cairnpb::Member*>(Find(std::as_const(m), id));
}

void SortMembers(cairnpb::Membership& m) {
  std::sort(m.mutable_members()->begin(), m.mutable_members()->end(),
            [](const cairnpb::Member& a, const cairnpb::Member& b) { return a.id() < b.id(); });
}

}  // namespace

std::string EncodeMemberContext(const cairnpb::Member& member) { return member.SerializeAsString(); }

Status Membership::Restore(const std::string& encoded) {
  cairnpb::Membership parsed;
  if (!parsed.ParseFromString(encoded)) return Status::DataLoss("stored cluster membership is unreadable");
  SortMembers(parsed);
  std::lock_guard lock(mu_);
  state_ = std::move(parsed);
  return Status::Ok();
}

std::string Membership::Encode() const {
  std::lock_guard lock(mu_);
  return state_.SerializeAsString();
}

Status Membership::Apply(const raft::ConfChange& cc) {
  std::lock_guard lock(mu_);
  const uint64_t id = cc.node_id;
  const bool removed = std::find(state_.removed().begin(), state_.removed().end(), id) != state_.removed().end();
  cairnpb::Member* existing = Find(state_, id);
  switch (cc.type) {
    case raft::ConfChangeType::kAddNode:
    case raft::ConfChangeType::kAddLearnerNode: {
      if (removed) return Status::FailedPrecondition("member " + std::to_string(id) + " was removed");
      const bool learner = cc.type == raft::ConfChangeType::kAddLearnerNode;
      if (existing != nullptr) {
        // Adding a voter that is a learner is a promotion; anything else repeats a change.
        if (!learner) existing->set_is_learner(false);
        return Status::Ok();
      }
      cairnpb::Member member;
      if (!member.ParseFromString(cc.context)) {
        return Status::DataLoss("conf change for member " + std::to_string(id) + " has an unreadable context");
      }
      member.set_id(id);
      member.set_is_learner(learner);
      *state_.add_members() = std::move(member);
      SortMembers(state_);
      return Status::Ok();
    }
    case raft::ConfChangeType::kRemoveNode: {
      auto* members = state_.mutable_members();
      members->erase(std::remove_if(members->begin(), members->end(),
                                    [&](const cairnpb::Member& m) { return m.id() == id; }),
                     members->end());
      if (!removed) state_.add_removed(id);
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown conf change type");
}

void Membership::SetAttributes(const cairnpb::MemberAttributes& attributes) {
  std::lock_guard lock(mu_);
  cairnpb::Member* member = Find(state_, attributes.id());
  if (member == nullptr) return;  // removed meanwhile: nothing to update
  member->set_name(attributes.name());
  *member->mutable_client_urls() = attributes.client_urls();
}

void Membership::SetPeerUrls(uint64_t id, const std::vector<std::string>& peer_urls) {
  std::lock_guard lock(mu_);
  cairnpb::Member* member = Find(state_, id);
  if (member == nullptr) return;
  member->clear_peer_urls();
  for (const auto& url : peer_urls) member->add_peer_urls(url);
}

std::vector<cairnpb::Member> Membership::List() const {
  std::lock_guard lock(mu_);
  return {state_.members().begin(), state_.members().end()};
}

std::optional<cairnpb::Member> Membership::Get(uint64_t id) const {
  std::lock_guard lock(mu_);
  const cairnpb::Member* m = Find(state_, id);
  return m != nullptr ? std::optional<cairnpb::Member>(*m) : std::nullopt;
}

bool Membership::IsRemoved(uint64_t id) const {
  std::lock_guard lock(mu_);
  return std::find(state_.removed().begin(), state_.removed().end(), id) != state_.removed().end();
}

// On every proposal and linearizable read: no copy of the member.
bool Membership::IsLearner(uint64_t id) const {
  std::lock_guard lock(mu_);
  const cairnpb::Member* m = Find(state_, id);
  return m != nullptr && m->is_learner();
}

}  // namespace cairn::etcdserver
