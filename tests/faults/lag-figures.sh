#!/bin/bash
# The GUI thread's "blocked" figure of each console fault case over RUNS runs (issue #22, item 7): runs
# console-faults.sh RUNS times and prints, per case, the blocked ms of every run and their median and maximum, the
# figure docs/reliability.md reports against the 50 ms goal. Nothing here fails on a figure (the suite itself fails
# only on a freeze, past FLEET_LAG_LIMIT_MS); it fails when a run fails.
#
#   tests/faults/lag-figures.sh RUNS FLEET_SIM FAULT_CONSOLE [CASE...]
#   e.g. tests/faults/lag-figures.sh 5 build/release/sim/fleet-sim build/release/tests/faults/fault-console
set -u
runs=$1
shift
here=$(dirname "$0")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for run in $(seq 1 "$runs"); do
    echo "run $run of $runs" >&2
    FLEET_LAG_LIMIT_MS=${FLEET_LAG_LIMIT_MS:-1000} "$here/console-faults.sh" "$@" >"$out.run" 2>&1 || status=1
    grep -E '^(CASE|FAIL)' "$out.run" | sed "s/^/$run /" >>"$out"
done
rm -f "$out.run"
grep ' FAIL' "$out" >&2
echo "GUI thread blocked (ms) per case over $runs runs (goal 50 ms; a freeze is past 1000 ms):"
# "<run> CASE <name>: ...; GUI lag p99 X ms, max Y ms (blocked Z ms)"
grep ' CASE ' "$out" | sed -n 's/^[0-9]* CASE \([a-z_0-9]*\):.*(blocked \([0-9.]*\) ms).*/\1 \2/p' | sort -k1,1 -s |
    awk '
    function report(   n, i, j, t, line) {
        if (name == "") return
        n = count
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        line = ""
        for (i = 1; i <= n; i++) line = line (i > 1 ? ", " : "") v[i]
        printf "  %-22s median %6.1f  max %6.1f  over %d (%s)\n", name, v[int((n + 1) / 2)], v[n], n, line
    }
    $1 != name { report(); name = $1; count = 0 }
    { v[++count] = $2 + 0 }
    END { report() }'
exit $status
