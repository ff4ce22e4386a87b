# Sourced by the cluster benches. leader_endpoint ENDPOINTS [etcdctl flags...]: prints the
# endpoint (host:port, scheme dropped) of the member that leads, once one does; fails
# after 15 s without a leader.
leader_endpoint() {
  local endpoints=$1 leader
  shift
  for _ in $(seq 150); do
    leader=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoints" "$@" endpoint status -w json 2>/dev/null |
             /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(next((x["Endpoint"] for x in s if x["Status"]["header"]["member_id"]==x["Status"].get("leader")), ""))' 2>/dev/null || true)
    if [ -n "$leader" ]; then echo "${leader#*://}"; return 0; fi
    sleep 0.1
  done
  return 1
}
