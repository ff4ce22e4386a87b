// The rules of deploy/operator's ClusterRole as (group, resource, verb) triples, for the
// RBAC tests that compare them with what the fake API server saw. Test-only.
#pragma once

#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "operator/tests/fake_apiserver.h"

namespace cairn::op::testing {

inline std::set<FakeApiServer::RbacUse> GrantedByClusterRole(const std::string& path) {
  std::set<FakeApiServer::RbacUse> out;
  YAML::Node role = YAML::LoadFile(path);
  for (const auto& rule : role["rules"]) {
    for (const auto& g : rule["apiGroups"]) {
      for (const auto& r : rule["resources"]) {
        for (const auto& v : rule["verbs"]) out.insert({g.as<std::string>(), r.as<std::string>(), v.as<std::string>()});
      }
    }
  }
  return out;
}

}  // namespace cairn::op::testing
