#include "server/auth/token_provider.h"

#include <map>
#include <sstream>

#include "server/auth/jwt_tokens.h"
#include "server/auth/simple_tokens.h"
#include "server/config/duration.h"

namespace cairn::auth {

Result<std::unique_ptr<TokenProvider>> NewTokenProvider(const std::string& spec, std::chrono::seconds simple_ttl) {
  std::vector<std::string> parts;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  if (parts.empty() || parts[0] == "simple") {
    if (parts.size() > 1) return Status::InvalidArgument("--auth-token simple takes no options");
    return std::unique_ptr<TokenProvider>(
        std::make_unique<SimpleTokens>(simple_ttl, [] { return std::chrono::steady_clock::now(); }));
  }
  if (parts[0] != "jwt") return Status::InvalidArgument("unknown --auth-token type \"" + parts[0] + "\"");
  std::map<std::string, std::string> options;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("--auth-token: \"" + parts[i] + "\" is not key=value");
    options[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
  }
  std::chrono::seconds ttl(300);
  for (const auto& [key, value] : options) {
    if (key == "ttl") {
      auto d = config::ParseGoDuration(value);
      if (!d.ok() || d->count() <= 0) return Status::InvalidArgument("--auth-token: bad ttl \"" + value + "\"");
      ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
    } else if (key != "pub-key" && key != "priv-key" && key != "sign-method") {
      return Status::InvalidArgument("--auth-token: unknown jwt option \"" + key + "\"");
    }
  }
  auto jwt = JwtTokens::Create(options["sign-method"], options["pub-key"], options["priv-key"], ttl,
                               [] { return std::chrono::system_clock::now(); });
  if (!jwt.ok()) return jwt.status();
  return std::unique_ptr<TokenProvider>(std::move(jwt.value()));
}

}  // namespace cairn::auth
