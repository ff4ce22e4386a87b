// SelfSignedCert: the certificate --auto-tls and --peer-auto-tls serve, made like etcd's
// transport.SelfCert: once per data dir, in <dir>/cert.pem and <dir>/key.pem, an ECDSA
// P-256 key and a self-signed X.509 v3 certificate (O=etcd) for the given hosts (IP
// addresses become IP SANs, names DNS SANs), usable for server and client
// authentication, valid for `validity_years`. Files already there are reused (after a
// PEM check), so a restart serves the same certificate. The directory is made 0700 and
// the key 0600. Each file is written to a temporary name, synced and renamed, so a
// crash leaves either no file or a whole one.
//
// A self-signed certificate cannot be verified by a peer; like etcd, members dialing a
// peer whose TLS is self-signed skip verification (TlsFiles::self_signed).
// Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "server/common/fs.h"
#include "server/common/status.h"
#include "server/transport/tls.h"

namespace cairn::transport {

// REQUIRES: validity_years >= 1.
[[nodiscard]] Result<TlsFiles> SelfSignedCert(FileSystem& fs, const std::string& dir,
                                              const std::vector<std::string>& hosts, unsigned validity_years);

}  // namespace cairn::transport
