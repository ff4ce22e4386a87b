// Base64 (RFC 4648, standard alphabet, padded) as the Kubernetes API uses it for the
// data of Secrets and the *-data fields of kubeconfigs.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "server/common/status.h"

namespace cairn::op {

std::string Base64Encode(std::string_view in);
// Ignores padding and line breaks; InvalidArgument on any other character outside the alphabet.
Result<std::string> Base64Decode(const std::string& in);

}  // namespace cairn::op
