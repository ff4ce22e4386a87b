// Structured logging for cairn-operator: one record per line on stderr, as
//   text (logfmt, the default):  ts=2026-01-01T00:00:00.000000Z level=info msg="reconciled" cluster=db/etcd took_ms=12
//   json:                         {"ts":"2026-01-01T00:00:00.000000Z","level":"info","msg":"reconciled","cluster":"db/etcd","took_ms":12}
// Callers pass the message and fields as values and never format or quote them
// themselves, so an error text with quotes, newlines or invalid UTF-8 cannot break a
// line (log shippers split on newlines and parse each line).
// Invariant: after Init(), every record of the process goes through Log(); nothing else
// writes to spdlog's default logger, whose pattern only frames FormatBody's output.
// Thread-safety: Log() may be called from any thread; Init() once, before any Log().
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include "server/common/status.h"

namespace cairn::op::log {

enum class Format { kText, kJson };

Result<Format> ParseFormat(std::string_view name);  // "text" or "json"

// Values keep their JSON type in json output (numbers stay numbers); in text output
// strings are quoted when they would otherwise not read back as one logfmt value.
using Fields = std::vector<std::pair<std::string, nlohmann::json>>;

// The part of a record after ts and level: `msg="..." k=v ...` or `"msg":"...","k":v,...`.
std::string FormatBody(Format format, std::string_view msg, const Fields& fields);

// Makes a stderr logger writing `format` records spdlog's default logger.
void Init(Format format);

void Log(spdlog::level::level_enum level, std::string_view msg, const Fields& fields = {});

}  // namespace cairn::op::log
