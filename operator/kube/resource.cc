#include "operator/kube/resource.h"

namespace cairn::op::kube {

std::string ResourceType::ApiVersion() const {
  const std::string core = "/api/";
  if (api_prefix.rfind(core, 0) == 0) return api_prefix.substr(core.size());
  return api_prefix.substr(std::string("/apis/").size());
}

bool ResourceType::IsCustom() const {
  return api_prefix.rfind("/apis/etcd.cairn.dev/", 0) == 0 || api_prefix.rfind("/apis/cert-manager.io/", 0) == 0;
}

std::string CollectionPath(const ResourceType& type, const std::string& ns) {
  if (type.namespaced && !ns.empty()) return type.api_prefix + "/namespaces/" + ns + "/" + type.plural;
  return type.api_prefix + "/" + type.plural;
}

std::string ObjectPath(const ResourceType& type, const std::string& ns, const std::string& name) {
  return CollectionPath(type, ns) + "/" + name;
}

namespace types {
const ResourceType& EtcdCluster() {
  static const ResourceType t{"/apis/etcd.cairn.dev/v1alpha1", "etcdclusters", "EtcdCluster", true, true};
  return t;
}
const ResourceType& EtcdBackup() {
  static const ResourceType t{"/apis/etcd.cairn.dev/v1alpha1", "etcdbackups", "EtcdBackup", true, true};
  return t;
}
const ResourceType& Service() {
  static const ResourceType t{"/api/v1", "services", "Service", true, true};
  return t;
}
const ResourceType& ConfigMap() {
  static const ResourceType t{"/api/v1", "configmaps", "ConfigMap", true, false};
  return t;
}
const ResourceType& Secret() {
  static const ResourceType t{"/api/v1", "secrets", "Secret", true, false};
  return t;
}
const ResourceType& CertManagerCertificate() {
  static const ResourceType t{"/apis/cert-manager.io/v1", "certificates", "Certificate", true, true};
  return t;
}
const ResourceType& StatefulSet() {
  static const ResourceType t{"/apis/apps/v1", "statefulsets", "StatefulSet", true, true};
  return t;
}
const ResourceType& PodDisruptionBudget() {
  static const ResourceType t{"/apis/policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true, true};
  return t;
}
const ResourceType& PersistentVolumeClaim() {
  static const ResourceType t{"/api/v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, true};
  return t;
}
const ResourceType& Pod() {
  static const ResourceType t{"/api/v1", "pods", "Pod", true, true};
  return t;
}
const ResourceType& Lease() {
  static const ResourceType t{"/apis/coordination.k8s.io/v1", "leases", "Lease", true, false};
  return t;
}
const ResourceType& Event() {
  static const ResourceType t{"/api/v1", "events", "Event", true, false};
  return t;
}
}  // namespace types

}  // namespace cairn::op::kube
