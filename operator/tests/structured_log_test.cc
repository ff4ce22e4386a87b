// Log record bodies in both formats: JSON bodies parse back to the same values whatever
// the text holds (quotes, newlines, control characters, invalid UTF-8); logfmt keeps
// simple values bare, as the operator always printed them, and quotes everything else.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "operator/log/structured_log.h"

namespace cairn::op::log {
namespace {

using json = nlohmann::json;

TEST(StructuredLog, ParsesFormatNames) {
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("yaml").ok());
}

TEST(StructuredLog, TextKeepsSimpleValuesBareAndQuotesTheRest) {
  EXPECT_EQ(FormatBody(Format::kText, "reconciled", {{"cluster", "db/etcd"}, {"took_ms", 12}, {"leader", true}}),
            "msg=\"reconciled\" cluster=db/etcd took_ms=12 leader=true");
  EXPECT_EQ(FormatBody(Format::kText, "started", {{"namespace", ""}, {"http", "0.0.0.0:8080"}}),
            "msg=\"started\" namespace=\"\" http=0.0.0.0:8080");
  EXPECT_EQ(FormatBody(Format::kText, "reconcile failed", {{"error", "code=14: say \"no\"\nnext=line"}}),
            "msg=\"reconcile failed\" error=\"code=14: say \\\"no\\\"\\nnext=line\"");
}

TEST(StructuredLog, JsonBodiesParseBackToTheSameValues) {
  const std::string nasty = "quote \" backslash \\ newline \n tab \t bell \x07 end";
  const std::string body = FormatBody(Format::kJson, "a \"msg\"\n", {{"error", nasty}, {"retry_in_ms", 200}, {"ok", false}});
  EXPECT_EQ(body.find('\n'), std::string::npos);  // one record, one line
  json parsed = json::parse("{" + body + "}");
  EXPECT_EQ(parsed["msg"], "a \"msg\"\n");
  EXPECT_EQ(parsed["error"], nasty);
  EXPECT_EQ(parsed["retry_in_ms"], 200);
  EXPECT_EQ(parsed["ok"], false);
}

TEST(StructuredLog, InvalidUtf8IsReplacedNotFatal) {
  const std::string bytes = "bad \xff\xfe bytes";
  json parsed = json::parse("{" + FormatBody(Format::kJson, "m", {{"error", bytes}}) + "}");
  EXPECT_EQ(parsed["error"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_NE(FormatBody(Format::kText, "m", {{"error", bytes}}).find("error=\"bad "), std::string::npos);
}

}  // namespace
}  // namespace cairn::op::log
