#!/usr/bin/env bash
# test_simd_info.sh — `parlab info`: the --json schema, the gradebook cache
# (second run cached, --refresh measures again), the text and roofline
# outputs. Uses PARLAB_PROBE_QUICK (small arrays) so it stays fast; the full
# STREAM-sized probe runs only with PARLAB_TEST_EXPENSIVE=1.
cd "$(dirname "$0")" && . ./lib.sh
export PARLAB_PROBE_QUICK=1
T=$(mktemp -d /tmp/parlab-info-test.XXXXXX)
trap 'rm -rf "$PARLAB_HOME" "$T"' EXIT

"$PARLAB" info --json >"$T/a.json" 2>"$T/a.err"
expect "info --json exits 0" "$?" 0
expect "stdout is one JSON document" "$(jget "$T/a.json" '"ok"' 2>&1)" ok
expect_has "the measuring note goes to stderr" "$(cat "$T/a.err")" "measuring this machine"
expect "first run measures" "$(jget "$T/a.json" 'd["cached"]')" False
expect "schema: top-level keys" "$(jget "$T/a.json" 'all(k in d for k in ["fingerprint","version","measured_at","cpu","cores","physical_cores","numa_nodes","caches","memory","isa","simd","stream","peak","ridge","openblas","kernels","gpu","mpi"])')" True
expect "schema: stream figures are positive" "$(jget "$T/a.json" 'all(d["stream"][k] > 0 for k in ["copy","scale","add","triad"])')" True
expect "schema: peak single and all" "$(jget "$T/a.json" 'd["peak"]["single"] > 0 and d["peak"]["all"] > 0')" True
expect "ridge = peak.all / triad" "$(jget "$T/a.json" 'abs(d["ridge"] - d["peak"]["all"] / d["stream"]["triad"]) < 1e-6 * d["ridge"]')" True
expect "cores match nproc" "$(jget "$T/a.json" 'd["cores"]')" "$(nproc)"
expect "caches: L1d known" "$(jget "$T/a.json" 'd["caches"]["l1d"] > 0')" True
expect "isa lists sse2" "$(jget "$T/a.json" '"sse2" in d["isa"]')" True
expect "openblas: a core type in use" "$(jget "$T/a.json" 'len(d["openblas"]["core"]) > 0 and d["openblas"]["loaded"]')" True
expect "openblas: a misdetection is corrected to the expected core" \
  "$(jget "$T/a.json" 'd["openblas"]["corrected"] and d["openblas"]["core"].lower() == d["openblas"]["expected"].lower() if d["openblas"]["misdetected"] else True')" True
expect "openblas: dgemm before/after measured" "$(jget "$T/a.json" 'd["openblas"]["dgemm_after"] > 0 and d["openblas"]["dgemm_before"] > 0')" True
expect "kernels: dot_f64 at 1/8 FLOP/byte" "$(jget "$T/a.json" '[k["ai"] for k in d["kernels"] if k["name"] == "dot_f64"] == [0.125]')" True
expect "kernels: each placed under the roof" "$(jget "$T/a.json" 'all(k["bound"] in ("memory","compute") and k["attainable"] > 0 for k in d["kernels"])')" True
expect "gpu and mpi are booleans" "$(jget "$T/a.json" 'type(d["gpu"]["present"]) is bool and type(d["mpi"]["present"]) is bool')" True

"$PARLAB" info --json >"$T/b.json" 2>"$T/b.err"
expect "second run is cached" "$(jget "$T/b.json" 'd["cached"]')" True
expect "cached: same measurement" "$(jget "$T/b.json" 'd["measured_at"]')" "$(jget "$T/a.json" 'd["measured_at"]')"
expect "cached: same figures" "$(jget "$T/b.json" 'd["stream"]["triad"]')" "$(jget "$T/a.json" 'd["stream"]["triad"]')"
expect "cached: nothing on stderr" "$(cat "$T/b.err")" ""
expect "the cache is the gradebook" \
  "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from machine_probe").fetchone()[0])' "$PARLAB_HOME/parlab.db")" 1

"$PARLAB" info --json --refresh >"$T/c.json" 2>/dev/null
expect "--refresh measures again" "$(jget "$T/c.json" 'd["cached"]')" False

out=$("$PARLAB" info)
expect_has "text: bandwidth" "$out" "STREAM"
expect_has "text: OpenBLAS core type" "$out" "core type"
expect_has "text: peak" "$out" "GFLOP/s"

out=$("$PARLAB" info --roofline --ascii)
expect_has "roofline: title" "$out" "Roofline: peak"
expect_has "roofline: kernels in the legend" "$out" "dot_f64"
expect "roofline --ascii: ASCII only" "$(printf '%s' "$out" | LC_ALL=C grep -c '[^ -~]')" 0
expect "roofline: at most 100 columns" "$(printf '%s\n' "$out" | awk '{ if (length($0) > 100) n++ } END { print n + 0 }')" 0
out=$(LANG=C.UTF-8 LC_ALL= "$PARLAB" info --roofline)
expect_has "roofline: braille when UTF-8" "$out" "⠒"

"$PARLAB" info bogus >/dev/null 2>&1
expect "unknown argument: usage error" "$?" 2

if [ "${PARLAB_TEST_EXPENSIVE:-0}" = 1 ]; then
  PARLAB_PROBE_QUICK=0 "$PARLAB" info --json --refresh >"$T/d.json" 2>/dev/null
  expect "full probe: STREAM arrays >= 4x LLC or memory-capped" \
    "$(jget "$T/d.json" 'd["stream"]["n"] * 8 >= 4 * d["caches"]["llc_total"] or d["stream"]["n"] * 24 >= 0.45 * d["memory"]["available_gib"] * 2**30')" True
fi

finish
