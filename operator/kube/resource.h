// ResourceType: where a kind lives in the Kubernetes REST API, and the URL paths built
// from it. The single place that knows the path scheme
//   /api/v1[/namespaces/NS]/PLURAL[/NAME[/status]]           (core group)
//   /apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/status]]
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>

namespace cairn::op::kube {

struct ResourceType {
  std::string api_prefix;  // "/api/v1" or "/apis/<group>/<version>"
  std::string plural;
  std::string kind;        // of one object; lists are kind + "List"
  bool namespaced = true;
  // Whether the type has a status subresource: its main endpoint ignores .status and
  // only PUT .../status writes it.
  bool status_subresource = true;

  std::string ApiVersion() const;  // "v1" or "<group>/<version>"
  bool IsCustom() const;           // served from a CustomResourceDefinition (ours or cert-manager's)
};

// An empty namespace means all namespaces (collections) or a cluster-scoped type.
std::string CollectionPath(const ResourceType& type, const std::string& ns);
std::string ObjectPath(const ResourceType& type, const std::string& ns, const std::string& name);

namespace types {
const ResourceType& EtcdCluster();
const ResourceType& EtcdBackup();
const ResourceType& Service();
const ResourceType& ConfigMap();
const ResourceType& Secret();
const ResourceType& CertManagerCertificate();  // cert-manager.io/v1 Certificate
const ResourceType& StatefulSet();
const ResourceType& PodDisruptionBudget();
const ResourceType& PersistentVolumeClaim();
const ResourceType& Pod();
const ResourceType& Lease();
const ResourceType& Event();  // core/v1 Event (events.k8s.io/v1 serves the same objects)
}  // namespace types

}  // namespace cairn::op::kube
