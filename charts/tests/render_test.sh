#!/usr/bin/env bash
# chart_render_test: what the charts render for each value set (charts/tests/values/*):
# objects, operator flags, RBAC scope (ClusterRole, or a Role per watched namespace with the
# same rules), probes, security context, standard labels, ServiceMonitor wiring, pull
# secrets, scheduling, NOTES.txt; and that the charts refuse the value sets in
# charts/tests/values/*/fail/ with the message their "# expect-error:" lines name.
source "$(dirname "$0")/lib.sh"
need_tools
HELM="$HELM" node "$TESTS/render_checks.mjs" || fail "the charts do not render what they should (see above)"
echo "PASS: chart renderings as expected"
