#!/bin/bash
# History from the fleet's own Prometheus (issue #23, part 1), against real processes: fleet-sim on the wall clock
# (--start-now --speed 1, so its seconds are Prometheus's), a real Prometheus (Debian's 2.42) scraping its /metrics
# every second with a bearer token, and fleetctl history reading the series the console's charts draw.
# Checks: the values Prometheus holds are the simulator's own (a packet loss set by hand comes back exactly); a query
# longer than a URL should carry goes by POST and gives the same; a zoom sweep from 1 h to 30 d is never refused for
# resolution (the step rule); a malformed query, an unreachable Prometheus and a wrong token are said in words with
# their exit codes; the token never appears in any output.
#
#   tests/prometheus/prometheus-history.sh FLEET_SIM FLEETCTL      (exit 77 = skipped, with the reason)
set -u
sim=$1
ctl=$2
work=$(mktemp -d)
failed=0
skip() {
    echo "SKIPPED prometheus-history: $1"
    exit 77
}
command -v prometheus >/dev/null || skip "prometheus is not installed (scripts/install-deps installs Debian's)"
cleanup() {
    kill -9 $(jobs -p) 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    failed=1
}
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
    done
    echo 0
}

"$sim" --port 0 --speed 1 --start-now --heartbeat-ms 1000 --seed 3 --token viewer:prom-view-3f9a2c71:prometheus \
    --token admin:admin-secret >"$work/sim.out" 2>"$work/sim.err" &
for _ in $(seq 1 100); do
    grep -q "listening" "$work/sim.out" && break
    sleep 0.1
done
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sim.out" | head -1)
[ -n "$port" ] || { echo "FAIL: fleet-sim did not start: $(cat "$work/sim.err")"; exit 1; }
api="http://127.0.0.1:$port"
curl -s -o /dev/null -X POST -H "Authorization: Bearer admin-secret" \
    -d '{"region":"eu-west","packet_loss":0.07,"ramp_s":0}' "$api/v1/sim/conditions"

pport=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fleet-sim
    authorization:
      credentials: prom-view-3f9a2c71
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prom.out" 2>&1 &
prom="http://127.0.0.1:$pport"
# Ready, and 15 scrapes of the loss in.
have=0
for _ in $(seq 1 60); do
    have=$(curl -s "$prom/api/v1/query" --data-urlencode \
        'query=count_over_time(fleet_region_packet_loss_ratio{region="eu-west"}[1m])' |
        sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
    [ "${have:-0}" -ge 15 ] && break
    sleep 1
done
[ "${have:-0}" -ge 15 ] || { echo "FAIL: Prometheus never scraped fleet-sim: $(tail -5 "$work/prom.out")"; exit 1; }

export PROMETHEUS_TOKEN=prom-secret-never-shown # this Prometheus ignores it; it must never be printed
history() { "$ctl" history --prometheus "$prom" --region eu-west --scrape-interval 1 "$@"; }

# 1. The series, against the simulator's own figures.
history --range 1m --json >"$work/h.json" 2>"$work/h.err" || fail "history exited $? ($(cat "$work/h.err"))"
python3 - "$work/h.json" "$api" <<'PY' || failed=1
import json, sys, urllib.request
h = json.loads(open(sys.argv[1]).read())
req = urllib.request.Request(sys.argv[2] + "/v1/regions/eu-west", headers={"Authorization": "Bearer prom-view-3f9a2c71"})
region = json.loads(urllib.request.urlopen(req).read())["network"]
s = h["samples"]
problems = []
if h["source"] != "prometheus" or h["step_s"] < 1:
    problems.append("source/step %s %s" % (h["source"], h["step_s"]))
if len(s) < 10:
    problems.append("only %d samples" % len(s))
recent = s[-5:]
if any(abs(x["packet_loss"] - 0.07) > 1e-9 for x in recent):
    problems.append("loss %s, the simulator says %s" % ([x["packet_loss"] for x in recent], region["packet_loss"]))
if abs(region["packet_loss"] - 0.07) > 1e-9:
    problems.append("the simulator's own loss is %s" % region["packet_loss"])
if any(sum(x["workers"].values()) <= 0 for x in recent) or any(x["rtt_p95_ms"] <= 0 for x in recent):
    problems.append("no workers or RTT in %s" % recent[-1])
print("CASE series: %d samples at %d s, loss %.3f (fleet-sim %.3f), workers %d, RTT p95 %.1f ms, gaps %d"
      % (len(s), h["step_s"], recent[-1]["packet_loss"], region["packet_loss"], sum(recent[-1]["workers"].values()),
         recent[-1]["rtt_p95_ms"], h["gaps"]))
for p in problems:
    print("FAIL [series]: " + p)
sys.exit(1 if problems else 0)
PY

# 2. A long query goes by POST and reads the same.
pad=$(printf ' + 0*vector(1)%.0s' $(seq 1 120))
printf '{"packet_loss":"max(fleet_region_packet_loss_ratio{region=\\"$region\\"})%s"}' "$pad" >"$work/long.json"
history --range 1m --queries "$work/long.json" --json >"$work/long.out" 2>"$work/long.err" ||
    fail "a long query: exit $? ($(cat "$work/long.err"))"
grep -q '"packet_loss":0.07' "$work/long.out" || fail "a long query (POST) did not read the loss: $(head -c 300 "$work/long.out")"
echo "CASE long query: $(wc -c <"$work/long.json") bytes of queries, by POST: $(grep -o '"packet_loss":0.07' "$work/long.out" | wc -l) samples at 7 %"

# 3. The zoom sweep: never refused for resolution.
sweep=""
for range in 1h 6h 24h 7d 30d; do
    if history --range "$range" --json >"$work/z.json" 2>"$work/z.err"; then
        sweep+="$range step $(sed -n 's/.*"step_s":\([0-9]*\).*/\1/p' "$work/z.json") s, "
    else
        fail "range $range: exit $? ($(cat "$work/z.err"))"
    fi
done
echo "CASE zoom sweep: ${sweep%, }"

# 4. Said in words: a malformed query (400, exit 3), Prometheus gone (exit 5), a region id that cannot be sent.
echo '{"packet_loss":"max(fleet_region_packet_loss_ratio{region=\"$region\"}"}' >"$work/bad.json"
history --range 1m --queries "$work/bad.json" >/dev/null 2>"$work/bad.err"
code=$?
[ "$code" = 3 ] && grep -q "malformed (400 bad_data)" "$work/bad.err" || fail "a malformed query: exit $code, $(cat "$work/bad.err")"
echo "CASE malformed query: exit $code: $(head -1 "$work/bad.err" | cut -c1-160)"
"$ctl" history --prometheus "http://127.0.0.1:$(free_port)" --region eu-west --range 1m --timeout 10 >/dev/null 2>"$work/gone.err"
code=$?
[ "$code" = 5 ] || fail "an unreachable Prometheus: exit $code, $(cat "$work/gone.err")"
echo "CASE unreachable: exit $code: $(head -1 "$work/gone.err" | cut -c1-160)"
history --region 'eu-west"}) or vector(1' --range 1m >/dev/null 2>"$work/id.err"
code=$?
[ "$code" = 2 ] || fail "a region id with PromQL in it: exit $code, $(cat "$work/id.err")"
echo "CASE hostile region id: exit $code: $(head -1 "$work/id.err" | cut -c1-160)"

if grep -rq "prom-secret-never-shown" "$work"/*.out "$work"/*.err "$work"/*.json 2>/dev/null; then
    fail "the Prometheus token was printed"
fi
[ "$failed" = 0 ] && echo "PASS prometheus-history"
exit "$failed"
