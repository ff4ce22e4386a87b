#include "operator/log/structured_log.h"

#include <atomic>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cairn::op::log {
namespace {

using json = nlohmann::json;

std::atomic<Format> g_format{Format::kText};

// Invalid UTF-8 (an error message quoting raw bytes) becomes U+FFFD instead of throwing.
std::string JsonText(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// A logfmt value stays bare only if it is non-empty printable ASCII without the
// characters that delimit or quote values.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

std::string TextValue(const json& v) {
  if (!v.is_string()) return JsonText(v);
  const std::string& s = v.get_ref<const std::string&>();
  // JSON string escaping is also valid logfmt quoting (Go's logfmt uses strconv.Quote).
  return NeedsQuotes(s) ? JsonText(v) : s;
}

}  // namespace

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return Status::InvalidArgument("unknown log format \"" + std::string(name) + "\" (text, json)");
}

std::string FormatBody(Format format, std::string_view msg, const Fields& fields) {
  std::string out;
  if (format == Format::kJson) {
    out = "\"msg\":" + JsonText(std::string(msg));
    for (const auto& [k, v] : fields) out += "," + JsonText(k) + ":" + JsonText(v);
    return out;
  }
  out = "msg=" + JsonText(std::string(msg));
  for (const auto& [k, v] : fields) out += " " + k + "=" + TextValue(v);
  return out;
}

void Init(Format format) {
  g_format = format;
  auto logger = spdlog::stderr_logger_mt("cairn-operator");
  logger->set_pattern(format == Format::kJson ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})"
                                              : "ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v",
                      spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
}

void Log(spdlog::level::level_enum level, std::string_view msg, const Fields& fields) {
  if (!spdlog::should_log(level)) return;
  spdlog::log(level, "{}", FormatBody(g_format.load(), msg, fields));
}

}  // namespace cairn::op::log
