#!/bin/bash
# The fleet's own Prometheus and Alertmanager (issue #23), against real processes: fleet-sim on the wall clock
# (--start-now --speed 1, so its seconds are Prometheus's), a real Prometheus (Debian's 2.42) scraping its /metrics
# every second with a bearer token and evaluating the seed's alert rule, a real Alertmanager (0.25) receiving the
# alerts, and fleetctl history, alerts and silence.
# Checks: the values Prometheus holds are the simulator's own (a packet loss set by hand comes back exactly); a query
# longer than a URL should carry goes by POST and gives the same; a zoom sweep from 1 h to 30 d is never refused for
# resolution (the step rule); a malformed query, an unreachable Prometheus and a wrong token are said in words with
# their exit codes; the token never appears in any output. Alerts: the packet-loss alert fires and is listed for
# its region; a silence for the region (with the operation in its comment) is previewed, refused without --yes,
# created once, listed with its countdown, shown on the alert as "silenced by", and expired, after which the alert
# fires again.
#
#   tests/prometheus/prometheus-alertmanager.sh FLEET_SIM FLEETCTL      (exit 77 = skipped, with the reason)
set -u
sim=$1
ctl=$2
work=$(mktemp -d)
failed=0
skip() {
    echo "SKIPPED prometheus-alertmanager: $1"
    exit 77
}
command -v prometheus >/dev/null || skip "prometheus is not installed (scripts/install-deps installs Debian's)"
command -v prometheus-alertmanager >/dev/null ||
    skip "prometheus-alertmanager is not installed (scripts/install-deps installs Debian's)"
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

# The scenario's warm-up (its first 30 minutes, ending now) written as OpenMetrics for promtool: Prometheus starts on
# those blocks and scrapes the same fleet-sim from then on, so it holds the past half hour and the live edge.
"$sim" --port 0 --speed 1 --start-now --heartbeat-ms 1000 --seed 3 --token viewer:prom-view-3f9a2c71:prometheus \
    --token admin:admin-secret --openmetrics-history "$work/history.om" >"$work/sim.out" 2>"$work/sim.err" &
for _ in $(seq 1 100); do
    grep -q "listening" "$work/sim.out" && break
    sleep 0.1
done
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sim.out" | head -1)
[ -n "$port" ] || { echo "FAIL: fleet-sim did not start: $(cat "$work/sim.err")"; exit 1; }
api="http://127.0.0.1:$port"
curl -s -o /dev/null -X POST -H "Authorization: Bearer admin-secret" \
    -d '{"region":"eu-west","packet_loss":0.07,"ramp_s":0}' "$api/v1/sim/conditions"

aport=$(free_port)
cat >"$work/alertmanager.yml" <<YAML
route:
  receiver: nobody
  group_by: ['alertname', 'region']
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: nobody
YAML
prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
    --web.listen-address="127.0.0.1:$aport" --cluster.listen-address= --log.level=warn >"$work/am.out" 2>&1 &
am="http://127.0.0.1:$aport"
# The seed's rule (docs/fleet-sim.md has it with "for: 1m"; 3 s here so the test does not wait a minute).
cat >"$work/rules.yml" <<'YAML'
groups:
  - name: fleet
    interval: 1s
    rules:
      - alert: FleetRegionPacketLoss
        expr: max by (region) (fleet_region_packet_loss_ratio) > 0.05
        for: 3s
        labels:
          severity: page
        annotations:
          summary: packet loss above 5 % in {{ $labels.region }}
YAML
pport=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['$work/rules.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$aport']
scrape_configs:
  - job_name: fleet-sim
    authorization:
      credentials: prom-view-3f9a2c71
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
promtool tsdb create-blocks-from openmetrics "$work/history.om" "$work/tsdb" >"$work/promtool.out" 2>&1 ||
    { echo "FAIL: promtool refused fleet-sim's OpenMetrics: $(tail -5 "$work/promtool.out")"; exit 1; }
prom_started=$(date +%s)
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

# 1b. The backfilled half hour: samples from before Prometheus started, with the fleet's workers in them.
history --range 1h --json >"$work/old.json" 2>"$work/old.err" || fail "history of the hour: exit $? ($(cat "$work/old.err"))"
python3 - "$work/old.json" "$prom_started" <<'PY' || failed=1
import json, sys, datetime
h = json.loads(open(sys.argv[1]).read())
started = int(sys.argv[2])
def t(x):
    return datetime.datetime.strptime(x["time"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
old = [x for x in h["samples"] if t(x) < started - 120 and sum(x["workers"].values()) > 0]
oldest = min((t(x) for x in old), default=started)
print("CASE backfill: %d samples with workers from before Prometheus started, the oldest %d min before it"
      % (len(old), (started - oldest) // 60))
if len(old) < 10 or started - oldest < 20 * 60:
    print("FAIL [backfill]: the OpenMetrics history did not reach Prometheus")
    sys.exit(1)
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

# 5. Alerts: the loss alert fires for eu-west and is listed for its region.
export ALERTMANAGER_TOKEN=am-secret-never-shown
alerts() { "$ctl" alerts --alertmanager "$am" --region eu-west "$@"; }
t0=$(date +%s%3N)
for _ in $(seq 1 40); do
    alerts --json >"$work/alerts.out" 2>"$work/alerts.err"
    grep -q '"name":"FleetRegionPacketLoss".*"state":"active"' "$work/alerts.out" && break
    sleep 0.5
done
grep -q '"state":"active"' "$work/alerts.out" || fail "the loss alert never fired: $(cat "$work/alerts.out" "$work/alerts.err")"
echo "CASE alert: fired and listed $(($(date +%s%3N) - t0)) ms after the history checks; $(alerts | head -1 | cut -c1-120)"
"$ctl" alerts --alertmanager "$am" --region us-east --json | grep -q '"alerts":\[\]' ||
    fail "another region's alerts are listed for us-east"

# 6. A silence that belongs to a mitigation: previewed, refused without --yes, created once.
silence() { "$ctl" silence --alertmanager "$am" "$@"; }
silence create --region eu-west --for 30m --reason "draining eu-west" --operation op-000042 >"$work/preview.out" \
    2>"$work/preview.err"
code=$?
[ "$code" = 3 ] && grep -q "firing now: 1" "$work/preview.out" || fail "the preview: exit $code, $(cat "$work/preview.out" "$work/preview.err")"
silence create --region eu-west --for 30m --reason "draining eu-west" --operation op-000042 --yes --json \
    >"$work/silence.out" 2>"$work/silence.err" || fail "silence create: exit $? ($(cat "$work/silence.err"))"
sid=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$work/silence.out")
[ -n "$sid" ] || fail "no silence id: $(cat "$work/silence.out")"
silence list --json >"$work/list.out" 2>&1
python3 - "$work/list.out" "$sid" <<'PY' || failed=1
import json, sys
silences = json.loads(open(sys.argv[1]).read())["silences"]
mine = [s for s in silences if s["id"] == sys.argv[2]]
problems = []
if len(silences) != 1 or len(mine) != 1:
    problems.append("%d silences, %d of them ours" % (len(silences), len(mine)))
else:
    s = mine[0]
    if s["state"] != "active" or not 1700 <= s["remaining_s"] <= 1800:
        problems.append("state %s, %s s left" % (s["state"], s["remaining_s"]))
    if "(operation op-000042)" not in s["comment"] or "[fleet-console key " not in s["comment"]:
        problems.append("comment %r" % s["comment"])
    if not s["created_by"].endswith("(fleetctl)") or s["matchers"] != ['region="eu-west"']:
        problems.append("created by %r, matchers %r" % (s["created_by"], s["matchers"]))
    print("CASE silence: %s, %s, %d s left, by %s: %s" % (s["id"], s["matchers"][0], s["remaining_s"], s["created_by"], s["comment"]))
for p in problems:
    print("FAIL [silence]: " + p)
sys.exit(1 if problems else 0)
PY
for _ in $(seq 1 30); do
    alerts --json >"$work/alerts.out" 2>&1
    grep -q "\"silenced_by\":\[\"$sid\"\]" "$work/alerts.out" && break
    sleep 0.5
done
grep -q '"state":"suppressed"' "$work/alerts.out" || fail "the alert is not shown silenced: $(cat "$work/alerts.out")"
echo "CASE silenced: $(alerts | head -1 | cut -c1-120)"

# 7. Expired when the region resumes (here by hand): the alert fires again. A path-breaking id never leaves.
silence expire "$sid" >/dev/null 2>"$work/expire.err"
code=$?
[ "$code" = 3 ] || fail "expire without --yes: exit $code"
silence expire "$sid" --yes >"$work/expire.out" 2>"$work/expire.err" || fail "expire: exit $? ($(cat "$work/expire.err"))"
silence list --json | grep -q '"state":"expired"' || fail "the silence is not expired"
for _ in $(seq 1 30); do
    alerts --json >"$work/alerts.out" 2>&1
    grep -q '"state":"active"' "$work/alerts.out" && break
    sleep 0.5
done
grep -q '"state":"active"' "$work/alerts.out" || fail "the alert did not fire again: $(cat "$work/alerts.out")"
silence expire "../status" --yes >/dev/null 2>"$work/bad-id.err"
code=$?
[ "$code" = 2 ] || fail "a path-breaking silence id: exit $code, $(cat "$work/bad-id.err")"
echo "CASE expired: the alert fires again; a path-breaking id: exit $code"

if grep -rqE "prom-secret-never-shown|am-secret-never-shown" "$work"/*.out "$work"/*.err "$work"/*.json 2>/dev/null; then
    fail "a token was printed"
fi
[ "$failed" = 0 ] && echo "PASS prometheus-alertmanager"
exit "$failed"
