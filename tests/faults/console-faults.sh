#!/bin/bash
# The console itself under real faults (issue #15). fault-console is the real FleetSession with its local store,
# status outbox and ConsoleWindow (drawn offscreen), a lag probe on its GUI thread, driven on stdin; fleet-sim is a
# real process. Each case injects one fault for real, then checks the invariants:
#   - the GUI thread is never blocked longer than FLEET_LAG_LIMIT_MS (50 by default; the lag probe, less the
#     kernel's run-queue wait, so a busy machine is not counted against the console);
#   - the connection state leaves `live` with a reason in words while the fault lasts and is `live` again by itself
#     once it clears;
#   - one operation per action and one incident per status page incident after any retry or restart; every queued
#     status update delivered, in order.
# Prints one line per case for docs/reliability.md. Cases that need root (the network namespace for packet loss) are
# reported as skipped, by name; the others run anywhere.
#
#   tests/faults/console-faults.sh FLEET_SIM FAULT_CONSOLE [CASE...]
#   cases: sim_killed stream_cut stream_stalled answers_stalled errors_5xx_429 killed_mid_provision
#          killed_mid_outbox long_journal packet_loss
set -u
sim=$1
fc=$2
shift 2
all_cases=(sim_killed stream_cut stream_stalled answers_stalled errors_5xx_429 killed_mid_provision killed_mid_outbox
    long_journal packet_loss)
cases=("$@")
[ $# -eq 0 ] && cases=("${all_cases[@]}")
lag_limit=${FLEET_LAG_LIMIT_MS:-50}
work=$(mktemp -d)
failed=0
skipped=()
ns=""
prefix=()
export FLEET_TOKEN=op-secret
export STATUSPAGE_API_KEY=demo-statuspage-key
export QT_QPA_PLATFORM=offscreen
admin=(-H "Authorization: Bearer admin-secret")
page_auth=(-H "Authorization: OAuth demo-statuspage-key")

cleanup() {
    kill -9 $(jobs -p) 2>/dev/null
    wait 2>/dev/null
    [ -n "$ns" ] && { ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$ns" 2>/dev/null; }
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$case]: $*"
    failed=1
}
now_ms() { date +%s%3N; }
run() { "${prefix[@]}" "$@"; } # background jobs call "${prefix[@]}" directly: $! must be the program's pid

# fleet-sim on PORT (0: a free one; the port is kept for restarts), speed 60, heartbeats every second.
sim_pid=""
port=0
start_sim() {
    : >"$work/sim.out"
    "${prefix[@]}" "$sim" --port "$port" --speed 60 --heartbeat-ms 1000 --seed 7 >"$work/sim.out" 2>"$work/sim.err" &
    sim_pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening" "$work/sim.out" && break
        sleep 0.1
    done
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sim.out" | head -1)
    [ -n "$port" ] || { fail "fleet-sim did not start: $(cat "$work/sim.err")"; return 1; }
    api="http://127.0.0.1:$port"
    page="$api/statuspage/v1"
}
stop_sim() {
    kill -9 "$sim_pid" 2>/dev/null
    wait "$sim_pid" 2>/dev/null
}
fault() { run curl -s -o /dev/null -w '%{http_code}' -X POST "${admin[@]}" -d "$1" "$api/v1/sim/faults" | grep -q '^20'; }
clear_faults() { run curl -s -o /dev/null -X DELETE "${admin[@]}" "$api/v1/sim/faults"; }

# The console, on stdin from a FIFO kept open on fd 7, reporting to $work/console.jsonl (appended across restarts).
console_pid=""
start_console() {
    rm -f "$work/console.in"
    mkfifo "$work/console.in"
    "${prefix[@]}" "$fc" --api "$api" --data "$work/data" --page-url "$page" --page-id fleetdemo <"$work/console.in" \
        >>"$work/console.jsonl" 2>>"$work/console.err" &
    console_pid=$!
    exec 7>"$work/console.in"
}
say() { echo "$*" >&7; }
kill_console() {
    kill -9 "$console_pid" 2>/dev/null
    wait "$console_pid" 2>/dev/null
    exec 7>&-
}
quit_console() {
    say quit
    exec 7>&-
    wait "$console_pid" 2>/dev/null
}
lines() { wc -l <"$work/console.jsonl"; }
# wait_for FROM_LINE SECONDS PATTERN: true once a report after line FROM_LINE matches the extended regex.
wait_for() {
    local from=$1 deadline=$(($(now_ms) + $2 * 1000)) pattern=$3
    while [ "$(now_ms)" -lt "$deadline" ]; do
        tail -n +"$((from + 1))" "$work/console.jsonl" | grep -Eq "$pattern" && return 0
        sleep 0.05
    done
    return 1
}
last_state() { grep '"kind":"state"' "$work/console.jsonl" | tail -1; }
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }

# The lag since the previous check: fails the case when the GUI thread was blocked longer than the limit.
lag_text=""
check_lag() { # [report]: only report (a start-up, not a fault)
    local from
    from=$(lines)
    say lag
    if ! wait_for "$from" 10 '"kind":"lag"'; then
        fail "the console did not answer within 10 s (frozen?)"
        lag_text="no answer"
        return
    fi
    local line p99 max blocked
    line=$(tail -n +"$((from + 1))" "$work/console.jsonl" | grep '"kind":"lag"' | head -1)
    p99=$(echo "$line" | field p99_ms)
    max=$(echo "$line" | field max_ms)
    blocked=$(echo "$line" | field blocked_max_ms)
    lag_text="GUI lag p99 ${p99} ms, max ${max} ms (blocked ${blocked} ms)"
    if [ "${1:-}" != report ] && awk -v b="$blocked" -v l="$lag_limit" 'BEGIN { exit !(b > l) }'; then
        fail "the GUI thread was blocked for $blocked ms (limit $lag_limit ms)"
    fi
    if ! echo "$line" | grep -q '"run_queue_known":true'; then
        lag_text="$lag_text [no run-queue figures from the kernel: blocked = late]"
    fi
}
# Honest state: after line FROM, a non-live state with a reason in words within SECONDS; sets $left_ms, $why.
expect_not_live() {
    local from=$1 start=$2
    if wait_for "$from" "$3" '"kind":"state".*"state":"(reconnecting|connecting|offline)"'; then
        left_ms=$(($(now_ms) - start))
        why=$(tail -n +"$((from + 1))" "$work/console.jsonl" | grep '"kind":"state"' | grep -v '"state":"live"' |
            head -1 | field reason)
        [ -n "$why" ] || fail "the connection left live without saying why"
    else
        left_ms=never
        why=""
        fail "the connection still said live $3 s into the fault"
    fi
}
expect_live_again() {
    local from=$1 start=$2
    if wait_for "$from" "$3" '"kind":"state".*"state":"live"'; then
        back_ms=$(($(now_ms) - start))
    else
        back_ms=never
        fail "not live again within $3 s of the fault clearing: $(last_state)"
    fi
}
# The fleet's operations made for REASON, or "unreadable" when the list could not be read (under packet loss a read
# can fail too: asked again for up to 30 s, and never taken as "none").
operations_for() {
    local out
    for _ in $(seq 1 30); do
        out=$(run curl -s --max-time 5 -w '\n%{http_code}' -H "Authorization: Bearer view-secret" \
            "$api/v1/operations?limit=500")
        if [ "${out##*$'\n'}" = 200 ]; then
            echo "${out%$'\n'*}" | grep -o "\"reason\":\"$1\"" | wc -l
            return
        fi
        sleep 1
    done
    echo unreadable
}
# Checks exactly one operation for REASON when the console said done, at most one otherwise; sets $ops.
check_operations() {
    ops=$(operations_for "$1")
    if [ "$ops" = unreadable ]; then
        fail "the fleet's operations could not be read for 30 s"
        return
    fi
    [ "$ops" -le 1 ] || fail "$ops operations for one provision"
    [ "$phase" != done ] || [ "$ops" = 1 ] || fail "the console said done, the fleet holds $ops operations"
}
# Waits until the action with REASON is final; sets $phase.
wait_action() {
    local reason=$1 seconds=$2
    if wait_for 0 "$seconds" "\"phase\":\"(done|failed|refused|abandoned)\",\"reason\":\"$reason\""; then
        phase=$(grep "\"reason\":\"$reason\"" "$work/console.jsonl" | grep -Eo '"phase":"(done|failed|refused|abandoned)"' |
            tail -1 | field phase)
    else
        phase="not final after ${seconds} s: $(grep "\"reason\":\"$reason\"" "$work/console.jsonl" | tail -1 |
            field message)"
    fi
}
provision_once() { # REASON SECONDS: provisions 1 amd64 worker in eu-west; checks exactly one operation
    local reason=$1
    say "provision eu-west 1 amd64 $reason"
    wait_action "$reason" "$2"
    check_operations "$reason"
}
# The page's incidents; the page rate-limits reads too (3 at once, 1 a second: 420), so ask again after a second.
page_incidents() {
    local out
    for _ in $(seq 1 10); do
        out=$(run curl -s -w '\n%{http_code}' "${page_auth[@]}" "$page/pages/fleetdemo/incidents?limit=100")
        [ "${out##*$'\n'}" = 200 ] && { echo "${out%$'\n'*}"; return; }
        sleep 1
    done
}
incidents_named() {
    page_incidents | grep -o "\"name\":\"$1\"" | wc -l
}
# The bodies of every update on the page, oldest first (one incident per case), the driver's first body shortened
# to "investigating"; joined by spaces.
update_bodies() {
    page_incidents | grep -o '"body":"[^"]*"' |
        sed 's/"body":"\(.*\)"/\1/; s/^We are investigating.*/investigating/' | tac | tr '\n' ' '
}
# The local audit log's entries of KIND (a regex) whose summary matches TEXT, as "outcome" lines.
journal_outcomes() {
    local from
    from=$(lines)
    say journal
    wait_for "$from" 10 '"kind":"journal_end"' || { fail "the console did not list its journal"; return; }
    tail -n +"$((from + 1))" "$work/console.jsonl" | grep '"kind":"journal"' | grep -E "\"entry\":\"$1\"" |
        grep -F "$2" | sed 's/.*"outcome":"\([^"]*\)".*/\1/'
}
# After a restart: live again; the start-up's own lag (opening the store, the first snapshot, the first paint of
# the window) is reported as such, and the probe starts again for what follows.
restarted_live() { # FROM: the report line count before the start
    wait_for "$1" 30 '"state":"live"' || fail "the restarted console never went live"
    check_lag report
    startup_lag=$lag_text
}
# SIGKILL the console (its lag so far in $before_kill), clear fleet-sim's faults, start it again on the same store and
# wait until it is live; $t0 is the restart time and $from the report line count before it.
kill_and_restart() {
    check_lag
    before_kill=$lag_text
    kill_console
    clear_faults
    t0=$(now_ms)
    from=$(lines)
    start_console
    restarted_live "$from"
}
# Queues the incident NAME in the console's outbox; sets $key (the console's incident key).
open_incident() {
    local from
    from=$(lines)
    say "open $1"
    wait_for "$from" 10 '"incident_key":"[^"]+","kind":"queued"' || fail "the incident was not queued"
    key=$(tail -n +"$((from + 1))" "$work/console.jsonl" | grep '"incident_key"' | head -1 | field incident_key)
}
row() { echo "CASE $case: $*; $lag_text"; }
fresh() { # a new fleet-sim and a new console (own local store) for the next case
    [ -n "$console_pid" ] && kill_console
    [ -n "$sim_pid" ] && stop_sim
    port=0
    rm -rf "$work/data" "$work/console.jsonl"
    mkdir -p "$work/data"
    : >"$work/console.jsonl"
    start_sim || return 1
    start_console
    wait_for 0 30 '"state":"live"' || { fail "the console never went live: $(tail -3 "$work/console.err")"; return 1; }
    check_lag report # start-up is not a fault; start the probe again
}

for case in "${cases[@]}"; do
    case $case in
    sim_killed) # the simulator killed (its event buffer lost) and started again on the same port
        fresh || continue
        from=$(lines)
        t0=$(now_ms)
        stop_sim
        expect_not_live "$from" "$t0" 5
        sleep 3
        from=$(lines)
        t1=$(now_ms)
        start_sim
        expect_live_again "$from" "$t1" 35
        check_lag
        row "state left live after $left_ms ms (\"$why\"); live again $back_ms ms after the restart"
        ;;
    stream_cut) # every event stream reset mid-stream (TCP RST)
        fresh || continue
        from=$(lines)
        t0=$(now_ms)
        fault '{"type":"cut_streams","mode":"reset"}' || fail "fleet-sim refused the fault"
        expect_not_live "$from" "$t0" 5
        expect_live_again "$from" "$t0" 35
        check_lag
        row "state left live after $left_ms ms (\"$why\"); live again $back_ms ms after the cut"
        ;;
    stream_stalled) # the stream sends nothing, not even heartbeats, for 8 s (heartbeat interval 1 s)
        fresh || continue
        from=$(lines)
        t0=$(now_ms)
        fault '{"type":"stall_stream","duration_ms":8000}' || fail "fleet-sim refused the fault"
        expect_not_live "$from" "$t0" 7
        expect_live_again "$from" "$t0" 45
        check_lag
        row "state left live after $left_ms ms (\"$why\"); live again $back_ms ms after the stall began (the stalled stream was given up; the new one got through)"
        ;;
    answers_stalled) # the provision's answer held 20 s, past the 15 s request timeout; the server has acted
        fresh || continue
        fault '{"type":"stall","delay_ms":20000,"count":1,"match":"/v1/regions/eu-west/provision"}' ||
            fail "fleet-sim refused the fault"
        t0=$(now_ms)
        provision_once "stalled-answer-$$" 60
        check_lag
        row "provision $phase in $(($(now_ms) - t0)) ms; operations created $ops"
        [ "$phase" = done ] || fail "the provision did not finish: $phase"
        ;;
    errors_5xx_429) # 503 x4 with Retry-After 1, then 429 x3 with Retry-After 2, on the provision; then both on reads
        fresh || continue
        fault '{"type":"error","status":503,"count":4,"retry_after_s":1,"match":"/v1/regions/eu-west/provision"}' ||
            fail "fleet-sim refused the fault"
        t0=$(now_ms)
        provision_once "burst-503-$$" 60
        first="503 x4: provision $phase in $(($(now_ms) - t0)) ms, operations created $ops"
        [ "$phase" = done ] || fail "the provision after 503s did not finish: $phase"
        fault '{"type":"error","status":429,"count":3,"retry_after_s":2,"match":"/v1/regions/eu-west/provision"}' ||
            fail "fleet-sim refused the fault"
        t0=$(now_ms)
        provision_once "burst-429-$$" 60
        second="429 x3: provision $phase in $(($(now_ms) - t0)) ms, operations created $ops"
        [ "$phase" = done ] || fail "the provision after 429s did not finish: $phase"
        from=$(lines)
        t0=$(now_ms)
        fault '{"type":"error","status":503,"duration_ms":6000}' || fail "fleet-sim refused the fault"
        fault '{"type":"cut_streams"}' || fail "fleet-sim refused the fault"
        expect_not_live "$from" "$t0" 5
        expect_live_again "$from" "$t0" 45
        check_lag
        row "$first; $second; every request 503 for 6 s with the stream cut: left live after $left_ms ms (\"$why\"), live again after $back_ms ms"
        ;;
    killed_mid_provision) # SIGKILL while the provision's answer is held; started again on the same local store
        fresh || continue
        reason="killed-mid-provision-$$"
        fault '{"type":"stall","delay_ms":10000,"count":1,"match":"/v1/regions/eu-west/provision"}' ||
            fail "fleet-sim refused the fault"
        say "provision eu-west 1 amd64 $reason"
        wait_for 0 10 "\"phase\":\"sending\",\"reason\":\"$reason\"" || fail "the provision was never sent"
        sleep 1 # the request is at the server, its answer held
        kill_and_restart
        wait_action "$reason" 60
        ops=$(operations_for "$reason")
        check_lag
        row "after the restart: $phase in $(($(now_ms) - t0)) ms (journal pending -> key looked up -> followed); operations created $ops; before the kill: $before_kill; start-up: $startup_lag"
        [ "$ops" = 1 ] || fail "$ops operations for one provision across a kill"
        [ "$phase" = done ] || fail "the restarted console did not finish the provision: $phase"
        grep -q "\"phase\":\"following\",\"reason\":\"$reason\"" "$work/console.jsonl" ||
            fail "the restarted console never followed the operation"
        outcomes=$(journal_outcomes provision "" | tr '\n' '|')
        echo "$outcomes" | grep -q "^succeeded" || fail "the local audit log says \"$outcomes\" for the provision"
        ;;
    killed_mid_outbox) # the status page answers 503; three writes queued; SIGKILL; page back; started again
        fresh || continue
        name="Killed with queued updates $$"
        fault '{"type":"error","status":503,"duration_ms":120000,"match":"/statuspage/"}' ||
            fail "fleet-sim refused the fault"
        from=$(lines)
        open_incident "$name"
        say "update $key identified outbox-step-2"
        say "update $key monitoring outbox-step-3"
        wait_for "$from" 30 '"pending":3,"summary":"3 status updates queued[^"]*503' ||
            fail "the outbox did not say why it was holding three updates: $(grep '"outbox"' "$work/console.jsonl" | tail -1)"
        summary=$(grep '"kind":"outbox"' "$work/console.jsonl" | tail -1 | field summary)
        kill_and_restart
        wait_for "$from" 60 '"pending":0' || fail "the queue did not empty after the restart"
        delivered=$(tail -n +"$((from + 1))" "$work/console.jsonl" | grep -c '"kind":"delivered"')
        took=$(($(now_ms) - t0))
        incidents=$(incidents_named "$name")
        order=$(update_bodies)
        check_lag
        row "queued: \"$summary\"; after the restart $delivered delivered in $took ms; incidents on the page $incidents; updates on the page, oldest first: $order; before the kill: $before_kill; start-up: $startup_lag"
        [ "$incidents" = 1 ] || fail "$incidents incidents on the page"
        [ "$delivered" = 3 ] || fail "$delivered of 3 queued updates delivered"
        [ "$order" = "investigating outbox-step-2 outbox-step-3 " ] || fail "updates lost or out of order: $order"
        recorded=$(journal_outcomes 'status_[a-z]*' "" | grep -c '^succeeded')
        [ "$recorded" = 3 ] || fail "the local audit log has $recorded of 3 status writes as succeeded"
        ;;
    long_journal) # a console used for months: 1,000 entries in its local audit log, then two provisions
        fresh || continue
        from=$(lines)
        say "age 1000"
        wait_for "$from" 30 '"kind":"aged"' || fail "the journal was not filled"
        check_lag report # filling it is the driver's work, not the console's
        t0=$(now_ms)
        provision_once "long-journal-1-$$" 60
        provision_once "long-journal-2-$$" 60
        check_lag
        row "two provisions $phase in $(($(now_ms) - t0)) ms with 1,000 journal entries listed in Activity"
        [ "$phase" = done ] || fail "the provision did not finish: $phase"
        ;;
    packet_loss) # 10/30/50 % of packets dropped, towards the Fleet API and the status page alike
        if [ "$(id -u)" != 0 ]; then
            skipped+=("packet_loss (needs root to make a network namespace; CI runs as root)")
            continue
        fi
        if ! command -v nft >/dev/null; then
            skipped+=("packet_loss (nft is not installed: scripts/install-deps installs it)")
            continue
        fi
        ns="fleet-console-loss-$$"
        if ! ip netns add "$ns" 2>"$work/ns.err"; then
            skipped+=("packet_loss (cannot create a network namespace: $(cat "$work/ns.err"))")
            ns=""
            continue
        fi
        prefix=(ip netns exec "$ns")
        run ip link set lo up
        if ! run nft add table inet loss || ! run nft add chain inet loss out '{ type filter hook output priority 0; }'; then
            skipped+=("packet_loss (nftables does not work here)")
            prefix=()
            continue
        fi
        fresh || continue
        name="Packet loss $$"
        key=""
        step=1
        for level in ${FLEET_LOSS_LEVELS:-10 30 50}; do
            run nft flush chain inet loss out
            run nft add rule inet loss out numgen random mod 100 lt "$level" counter drop ||
                { fail "nftables would not drop $level %"; continue; }
            t0=$(now_ms)
            from=$(lines)
            # A status write under the same loss: the incident at the first level, an update at the next.
            if [ -z "$key" ]; then
                open_incident "$name"
            else
                step=$((step + 1))
                say "update $key identified loss-$$-step-$step"
            fi
            provision_once "loss-$level-$$" 90
            took=$(($(now_ms) - t0))
            if wait_for "$from" 60 '"pending":0'; then
                page_state="delivered after $(($(now_ms) - t0)) ms"
            else
                page_state="still queued after 60 s"
            fi
            # The loss lasts at least 20 s whatever the actions took: the live view runs through it.
            while [ "$(($(now_ms) - t0))" -lt 20000 ]; do sleep 0.5; done
            states=$(tail -n +"$((from + 1))" "$work/console.jsonl" | grep '"kind":"state"' | field state | sort |
                uniq -c | tr -s ' ' | tr '\n' ' ')
            dropped=$(run nft list chain inet loss out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
            run nft flush chain inet loss out
            cleared=$(now_ms)
            check_operations "loss-$level-$$" # counted again with the loss gone: the answer that decides
            from=$(lines)
            if last_state | grep -q '"state":"live"'; then
                back_ms="0 (stayed live)"
            else
                expect_live_again "$from" "$cleared" 45
            fi
            wait_for 0 60 '"pending":0' || fail "a status write still queued 60 s after the loss cleared"
            check_lag
            row "$level % (${dropped:-0} packets dropped): provision $phase in $took ms, operations $ops; status write $page_state; states seen: $states; live again after $back_ms ms"
            [ "${dropped:-0}" -gt 0 ] || fail "nftables dropped nothing at $level %"
        done
        incidents=$(incidents_named "$name")
        [ "$incidents" = 1 ] || fail "$incidents incidents on the page for one incident"
        order=$(update_bodies)
        expected="investigating"
        for i in $(seq 2 "$step"); do expected="$expected loss-$$-step-$i"; done
        echo "CASE $case: incidents on the page $incidents; updates on the page, oldest first: $order"
        [ "$order" = "$expected " ] || fail "updates lost or out of order: $order (expected $expected)"
        kill_console
        stop_sim
        console_pid=""
        sim_pid=""
        prefix=()
        ;;
    *)
        echo "unknown case $case (cases: ${all_cases[*]})"
        exit 2
        ;;
    esac
    if grep -q "Sanitizer\|Segmentation\|runtime error" "$work/console.err" 2>/dev/null; then
        fail "the console reported a crash or undefined behaviour:"
        grep -A20 "Sanitizer\|runtime error" "$work/console.err" | head -40
    fi
    : >"$work/console.err"
done
[ -n "$console_pid" ] && kill_console
for s in "${skipped[@]}"; do echo "SKIPPED $s"; done
exit $failed
