// CronSchedule: when a scheduled backup is due, from a standard 5-field cron expression
// read as wall-clock time in an IANA time zone. Pure computation: every instant comes from
// the caller, never from the system clock, so the backup scheduler stays a deterministic
// function of its inputs and tests can place "now" anywhere (DST days, leap years).
//
// Syntax ("minute hour day-of-month month day-of-week"):
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or
//   SUN-SAT (0 and 7 are both Sunday). Names are 3 letters, case-insensitive. Each field is
//   a comma list of `*`, `a`, `a-b`, `*/n` or `a-b/n`; `a/n` means `a-<max>/n` (as in
//   Kubernetes CronJob). Ranges must not run backwards (`FRI-MON` is an error). Macros:
//   @yearly = @annually, @monthly, @weekly, @daily = @midnight, @hourly (case-insensitive).
//
// Semantics, and why:
//  - Day rule (Vixie cron): when day-of-month and day-of-week are both restricted, a day
//    matches if EITHER does ("0 0 1,15 * MON" runs on the 1st, the 15th and every Monday);
//    when either is unrestricted, both must. A field is unrestricted only if it is exactly
//    `*` or `*/1` — as in Kubernetes CronJob, whose schedules users will paste here. (Vixie
//    also treats `*/2` as unrestricted; here it is a restriction.)
//  - Spring-forward gap: a wall time the clocks skip runs at the first instant after the
//    gap (the transition itself), so a daily backup still happens on that day. Several
//    skipped slots collapse into that one run. (Kubernetes CronJob skips such a run; Vixie
//    cron and cronie run it right after the change, as here.)
//  - Fall-back overlap: a wall time that occurs twice runs once, at its first occurrence.
//    Consequence: an hourly schedule has one two-hour gap on that day, never two runs of
//    the same wall-clock hour.
//  - Impossible schedules ("0 0 30 2 *", "0 0 31 4,6,9,11 *") are rejected by Parse, so
//    Next always finds a slot; February 29 is possible (leap years only). Next returns
//    kNever only when the slot lies beyond what TimePoint can represent (year 2262).
//  - Time zones come from the system tz database (/usr/share/zoneinfo, or $TZDIR) through
//    Abseil's cctz, which reads TZif files including the POSIX-TZ footer for dates past the
//    last listed transition. It needs no process-global state: unlike setenv("TZ") +
//    localtime_r, it cannot race the logger or other threads. libstdc++ 12 lacks
//    std::chrono::tzdb, hence Abseil. "UTC" (and "") never touches the database, so UTC
//    schedules work in an image without tzdata.
//
// Thread-safety: immutable after Parse; const methods may run concurrently. Copies are
// cheap and share the loaded zone.
//
// Invariants: a CronSchedule that exists came from a successful Parse, has at least one
// selected value in every field, and matches at least one date.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op::backup {

namespace internal {
// Bit i set: value i selected. day_of_week uses 0-6 (Sunday = 0; a 7 is folded onto 0).
struct CronFields {
  uint64_t minutes = 0;
  uint64_t hours = 0;
  uint64_t days_of_month = 0;
  uint64_t months = 0;
  uint64_t days_of_week = 0;
  bool dom_unrestricted = false;
  bool dow_unrestricted = false;
};
struct CronZone;  // the loaded time zone; defined in the .cc so Abseil stays out of this header
}  // namespace internal

class CronSchedule {
 public:
  static constexpr TimePoint kNever = TimePoint::max();

  // InvalidArgument names the field and the problem, e.g.
  //   invalid schedule "61 * * * *": minute field: 61 is out of range 0-59
  // time_zone is an IANA name ("Europe/Berlin"); "" means UTC. Non-IANA spellings
  // (absolute paths, "..", "localtime") are refused: the zone must not depend on the host.
  static Result<CronSchedule> Parse(const std::string& expr, const std::string& time_zone = "UTC");

  // The first slot strictly after `after`.
  TimePoint Next(TimePoint after) const;

  // The latest slot in (last_run, now], or nullopt if none: an operator that was down
  // across several slots runs one catch-up backup, not one per missed slot. A schedule
  // that never ran should pass its creation time as last_run, or it fires at once.
  std::optional<TimePoint> MissedRun(TimePoint last_run, TimePoint now) const;

  const std::string& expression() const { return expression_; }
  const std::string& time_zone() const { return time_zone_; }

 private:
  CronSchedule() = default;

  internal::CronFields fields_;
  std::string expression_;
  std::string time_zone_;
  std::shared_ptr<const internal::CronZone> zone_;  // null: UTC, computed without the tz database
};

}  // namespace cairn::op::backup
