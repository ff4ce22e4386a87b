// Names of what the member keeps in the MVCC store's meta table, next to the data they
// describe so that a store copy (a snapshot) carries them along.
#pragma once

#include <string>

namespace cairn::etcdserver {

// The encoded Membership (membership.h).
inline const std::string kMembershipMeta = "membership";
// The encoded alarm set (alarms.h).
inline const std::string kAlarmsMeta = "alarms";
// The encoded auth store (auth/auth_store.h).
inline const std::string kAuthMeta = "auth";
// The term of the last applied entry: a snapshot's metadata needs it.
inline const std::string kAppliedTermMeta = "applied_term";
// The applied index of a snapshot installed from the leader, until the WAL records it.
inline const std::string kInstalledSnapshotMeta = "installed_snapshot";

}  // namespace cairn::etcdserver
