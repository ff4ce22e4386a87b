#include "operator/backup/cron_schedule.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::op::backup {

namespace internal {
struct CronZone {
  absl::TimeZone tz;
};
}  // namespace internal

namespace {

using internal::CronFields;

// Consecutive February 29ths can be 8 years apart (2096 -> 2104: 2100 is no leap year), the
// longest wait any schedule that passed Parse can have. The search stops a little later.
constexpr int kSearchDays = 366 * 10;

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSpec {
  const char* name = "";
  int min = 0;
  int max = 0;
  const char* const* names = nullptr;  // names[i] stands for min + i
  int name_count = 0;
};

constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, 0};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, 0};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, nullptr, 0};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames, 12};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, kDayNames, 7};

bool Has(uint64_t bits, int v) { return ((bits >> v) & 1U) != 0; }

Status FieldError(const FieldSpec& f, const std::string& detail) {
  return Status::InvalidArgument(std::string(f.name) + " field: " + detail);
}

std::string Range(const FieldSpec& f) { return std::to_string(f.min) + "-" + std::to_string(f.max); }

// Up to 4 digits: enough for every legal value and step, and no overflow to worry about.
bool ParseDigits(std::string_view s, int* out) {
  if (s.empty() || s.size() > 4) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

Status ParseValue(std::string_view tok, const FieldSpec& f, int* out) {
  if (AllDigits(tok)) {
    int v = 0;
    if (!ParseDigits(tok, &v) || v < f.min || v > f.max) {
      return FieldError(f, std::string(tok) + " is out of range " + Range(f));
    }
    *out = v;
    return Status::Ok();
  }
  if (f.names != nullptr) {
    std::string want;
    for (int i = 0; i < f.name_count; ++i) {
      if (EqualsIgnoreCase(tok, f.names[i])) {
        *out = f.min + i;
        return Status::Ok();
      }
      want += (i == 0 ? "" : ",") + std::string(f.names[i]);
    }
    return FieldError(f, "unknown name \"" + std::string(tok) + "\" (want a number " + Range(f) + " or one of " +
                             want + ")");
  }
  return FieldError(f, "\"" + std::string(tok) + "\" is not a number");
}

Status ParseElement(std::string_view elem, std::string_view field_text, const FieldSpec& f, uint64_t* bits) {
  if (elem.empty()) return FieldError(f, "empty element in list \"" + std::string(field_text) + "\"");
  std::string_view base = elem;
  int step = 1;
  const size_t slash = elem.find('/');
  const bool has_step = slash != std::string_view::npos;
  if (has_step) {
    base = elem.substr(0, slash);
    const std::string_view step_text = elem.substr(slash + 1);
    if (!ParseDigits(step_text, &step)) {
      return FieldError(f, "step \"" + std::string(step_text) + "\" in \"" + std::string(elem) + "\" is not a number");
    }
    if (step < 1) return FieldError(f, "step 0 in \"" + std::string(elem) + "\" must be at least 1");
  }
  int lo = f.min;
  int hi = f.max;
  if (base != "*") {
    const size_t dash = base.find('-');
    if (dash != std::string_view::npos) {
      const std::string_view lo_text = base.substr(0, dash);
      const std::string_view hi_text = base.substr(dash + 1);
      if (lo_text.empty() || hi_text.empty()) {
        return FieldError(f, "incomplete range \"" + std::string(base) + "\"");
      }
      CAIRN_RETURN_IF_ERROR(ParseValue(lo_text, f, &lo));
      CAIRN_RETURN_IF_ERROR(ParseValue(hi_text, f, &hi));
      if (lo > hi) {
        return FieldError(f, "range \"" + std::string(base) + "\" runs backwards (" + std::to_string(lo) + " > " +
                                 std::to_string(hi) + ")");
      }
    } else {
      CAIRN_RETURN_IF_ERROR(ParseValue(base, f, &lo));
      hi = has_step ? f.max : lo;
    }
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return Status::Ok();
}

Status ParseField(std::string_view text, const FieldSpec& f, uint64_t* bits, bool* unrestricted) {
  *bits = 0;
  *unrestricted = text == "*" || text == "*/1";
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    const std::string_view elem =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    CAIRN_RETURN_IF_ERROR(ParseElement(elem, text, f, bits));
    if (comma == std::string_view::npos) return Status::Ok();
    pos = comma + 1;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Nothing in the name may steer cctz away from the zoneinfo directory (it would read an
// absolute path, or the host's own zone for "localtime"), so the schedule means the same
// on every operator replica.
bool LooksLikeIanaName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "localtime") return false;
  size_t start = 0;
  while (true) {
    const size_t slash = name.find('/', start);
    const std::string_view part =
        std::string_view(name).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+') return false;
    }
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

int CronWeekday(absl::CivilDay d) {
  switch (absl::GetWeekday(d)) {
    case absl::Weekday::sunday: return 0;
    case absl::Weekday::monday: return 1;
    case absl::Weekday::tuesday: return 2;
    case absl::Weekday::wednesday: return 3;
    case absl::Weekday::thursday: return 4;
    case absl::Weekday::friday: return 5;
    case absl::Weekday::saturday: return 6;
  }
  return 0;
}

bool DayMatches(const CronFields& f, absl::CivilDay d) {
  if (!Has(f.months, d.month())) return false;
  const bool dom = Has(f.days_of_month, d.day());
  const bool dow = Has(f.days_of_week, CronWeekday(d));
  // An unrestricted field has every bit set, so AND reduces to the other field's test.
  return (f.dom_unrestricted || f.dow_unrestricted) ? (dom && dow) : (dom || dow);
}

// Wall-clock minute <-> instant. Slot(c) is the instant a matching wall time c fires at;
// it is non-decreasing in c (first occurrence inside an overlap, the transition for a wall
// time inside a gap), which is what lets Next and MissedRun walk wall time in order.
class ZoneView {
 public:
  explicit ZoneView(const internal::CronZone* zone) : zone_(zone) {}

  absl::CivilMinute WallMinute(absl::Time t) const {
    return absl::ToCivilMinute(t, zone_ == nullptr ? absl::UTCTimeZone() : zone_->tz);
  }

  absl::Time Slot(absl::CivilMinute c) const {
    if (zone_ == nullptr) return absl::FromUnixSeconds(absl::CivilSecond(c) - absl::CivilSecond(1970, 1, 1));
    const absl::TimeZone::TimeInfo ti = zone_->tz.At(absl::CivilSecond(c));
    return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
  }

 private:
  const internal::CronZone* zone_;
};

TimePoint ToTimePoint(absl::Time t) {
  static const absl::Time kMax = absl::FromChrono(TimePoint::max());
  static const absl::Time kMin = absl::FromChrono(TimePoint::min());
  if (t >= kMax) return TimePoint::max();
  if (t <= kMin) return TimePoint::min();
  return absl::ToChronoTime(t);
}

absl::CivilMinute At(absl::CivilDay day, int hour, int minute) {
  return absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute);
}

// The latest slot whose wall time is at or before `start` and whose instant is at or
// before `limit`; nullopt if that slot is not after `floor` (or none exists in the horizon).
std::optional<absl::Time> LatestSlot(const CronFields& f, const ZoneView& zone, absl::CivilMinute start,
                                     absl::Time floor, absl::Time limit) {
  const absl::CivilDay first_day(start);
  for (absl::CivilDay day = first_day; first_day - day <= kSearchDays; --day) {
    if (!DayMatches(f, day)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!Has(f.hours, h)) continue;
      for (int m = 59; m >= 0; --m) {
        if (!Has(f.minutes, m)) continue;
        const absl::CivilMinute c = At(day, h, m);
        if (c > start) continue;
        const absl::Time t = zone.Slot(c);
        if (t > limit) continue;  // unreachable while Slot is monotone; cheap insurance
        if (t <= floor) return std::nullopt;
        return t;
      }
    }
  }
  return std::nullopt;
}

std::string Join(const FieldSpec& f, uint64_t bits) {
  std::string out;
  for (int v = f.min; v <= f.max; ++v) {
    if (Has(bits, v)) out += (out.empty() ? "" : ",") + std::to_string(v);
  }
  return out;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& expr, const std::string& time_zone) {
  const auto invalid = [&](const std::string& detail) {
    return Status::InvalidArgument("invalid schedule \"" + expr + "\": " + detail);
  };
  std::vector<std::string_view> parts = SplitWhitespace(expr);
  if (parts.size() == 1 && parts[0].front() == '@') {
    static constexpr std::pair<const char*, const char*> kMacros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
    };
    const char* expansion = nullptr;
    for (const auto& [name, fields] : kMacros) {
      if (EqualsIgnoreCase(parts[0], name)) expansion = fields;
    }
    if (expansion == nullptr) {
      return invalid("unknown macro \"" + std::string(parts[0]) +
                     "\" (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
    }
    parts = SplitWhitespace(expansion);
  }
  if (parts.size() != 5) {
    return invalid("want 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(parts.size()));
  }

  CronSchedule s;
  CronFields& f = s.fields_;
  bool unrestricted = false;
  const auto field = [&](std::string_view text, const FieldSpec& spec, uint64_t* bits) {
    const Status st = ParseField(text, spec, bits, &unrestricted);
    return st.ok() ? st : invalid(st.message());
  };
  CAIRN_RETURN_IF_ERROR(field(parts[0], kMinute, &f.minutes));
  CAIRN_RETURN_IF_ERROR(field(parts[1], kHour, &f.hours));
  CAIRN_RETURN_IF_ERROR(field(parts[2], kDayOfMonth, &f.days_of_month));
  f.dom_unrestricted = unrestricted;
  CAIRN_RETURN_IF_ERROR(field(parts[3], kMonth, &f.months));
  CAIRN_RETURN_IF_ERROR(field(parts[4], kDayOfWeek, &f.days_of_week));
  f.dow_unrestricted = unrestricted;
  if (Has(f.days_of_week, 7)) f.days_of_week = (f.days_of_week & ~(uint64_t{1} << 7)) | 1U;

  // Only "day-of-month AND every weekday" can select no date at all: with the OR rule any
  // weekday occurs in every month, and an unrestricted day-of-month always has day 1.
  if (f.dow_unrestricted && !f.dom_unrestricted) {
    static constexpr int kMaxDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool possible = false;
    for (int m = 1; m <= 12; ++m) {
      if (!Has(f.months, m)) continue;
      for (int d = 1; d <= kMaxDays[m - 1]; ++d) possible = possible || Has(f.days_of_month, d);
    }
    if (!possible) {
      return invalid("day-of-month field: day " + Join(kDayOfMonth, f.days_of_month) + " never occurs in month " +
                     Join(kMonth, f.months) + ", so the schedule would never run");
    }
  }

  if (time_zone.empty() || time_zone == "UTC") {
    s.time_zone_ = "UTC";
  } else {
    if (!LooksLikeIanaName(time_zone)) {
      return Status::InvalidArgument("time zone \"" + time_zone +
                                     "\": not an IANA time zone name (like \"Europe/Berlin\" or \"UTC\")");
    }
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(time_zone, &tz)) {
      return Status::InvalidArgument("time zone \"" + time_zone +
                                     "\": not found in the system time zone database (/usr/share/zoneinfo)");
    }
    s.time_zone_ = time_zone;
    s.zone_ = std::make_shared<const internal::CronZone>(internal::CronZone{tz});
  }
  s.expression_ = expr;
  return s;
}

TimePoint CronSchedule::Next(TimePoint after) const {
  const ZoneView zone(zone_.get());
  const absl::Time a = absl::FromChrono(after);
  // Slot is monotone and Slot(start) <= a, so no wall minute at or before `start` can be
  // due; later ones may still not be (the second pass of an overlap), hence the t > a test.
  const absl::CivilMinute start = zone.WallMinute(a);
  const absl::CivilDay first_day(start);
  for (absl::CivilDay day = first_day; day - first_day <= kSearchDays; ++day) {
    if (!DayMatches(fields_, day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!Has(fields_.hours, h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!Has(fields_.minutes, m)) continue;
        const absl::CivilMinute c = At(day, h, m);
        if (c <= start) continue;
        const absl::Time t = zone.Slot(c);
        if (t > a) return ToTimePoint(t);
      }
    }
  }
  return kNever;
}

std::optional<TimePoint> CronSchedule::MissedRun(TimePoint last_run, TimePoint now) const {
  if (now <= last_run) return std::nullopt;
  const ZoneView zone(zone_.get());
  const absl::Time a_now = absl::FromChrono(now);
  std::optional<TimePoint> latest;
  if (auto t = LatestSlot(fields_, zone, zone.WallMinute(a_now), absl::FromChrono(last_run), a_now)) {
    latest = ToTimePoint(*t);
  }
  // Wall minutes after now's wall minute can already be due when `now` is in the second
  // pass of a fall-back overlap (their first occurrence is behind us). They all lie within
  // that overlap, so walking forward slot by slot is short.
  TimePoint base = latest.value_or(last_run);
  while (true) {
    const TimePoint next = Next(base);
    if (next > now || next <= base) break;
    latest = next;
    base = next;
  }
  return latest;
}

}  // namespace cairn::op::backup
