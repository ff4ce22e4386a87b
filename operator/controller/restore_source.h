// ResolveRestore: turns spec.bootstrap.restore into what the members' init containers
// fetch (ClusterSpec::resolved_restore), reading the world:
//   * once the bootstrap ConfigMap records a resolution (naming::kKeyRestore), that
//     record, and nothing else: the pod template built from it never changes again;
//   * before that, the EtcdBackup named (it must have Succeeded; its status records the
//     object and the destination it went to) or the source given, the destination's
//     credentials from its Secret(s), and the operator's own image (which runs
//     `cairn-operator fetch-backup`).
// Returns why it cannot resolve yet (the planner blocks the bootstrap with it), or "" when
// resolved or when no restore is asked for. API errors other than NotFound are returned
// as errors. Thread-safety: stateless; the client must be usable from this thread.
#pragma once

#include <string>

#include "operator/api/backup_spec.h"
#include "operator/api/cluster_spec.h"
#include "operator/controller/observe.h"
#include "operator/kube/client.h"

namespace cairn::op {

Result<std::string> ResolveRestore(kube::Client& client, const ChildObjects& children, const std::string& operator_image,
                                   ClusterSpec& spec);

// The decoded value of one key of a Secret in `ns`; NotFound / FailedPrecondition naming
// the Secret and key when either is missing.
Result<std::string> SecretValue(kube::Client& client, const std::string& ns, const SecretKeyRef& ref);

}  // namespace cairn::op
