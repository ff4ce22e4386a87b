// MemberOptions: what a loaded ServerConfig (etcd's flags) means for the member, its TLS
// sides included. The one place a flag's value is handed to the code that acts on it;
// member_options_test checks that every flag the registry calls implemented changes
// what comes out (or names the test that checks the flag where it acts instead).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "server/config/server_config.h"
#include "server/etcdserver/server.h"
#include "server/transport/tls.h"

namespace cairn::cmd {

// One TLS side as given by the flags (auto TLS not yet applied). `side` is "client" or
// "peer", for the certificate checks' log lines.
transport::TlsFiles ToTlsFiles(const config::TlsConfig& tls, const std::string& side);

// The member's options. Both TLS sides are the files the flags name; --auto-tls and
// --peer-auto-tls are applied afterwards by the binary (they generate files).
etcdserver::ServerOptions ToServerOptions(const config::ServerConfig& config);

}  // namespace cairn::cmd
