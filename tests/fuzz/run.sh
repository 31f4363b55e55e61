#!/bin/sh
# Runs libFuzzer targets one after the other, each for SECONDS from its corpus
# (tests/fuzz/corpus/<target>/, copied to a scratch folder so the repository's corpus is
# never changed), with its dictionary when there is one (tests/fuzz/<target>.dict).
# Exits 1 when any target finds a crash, a sanitizer report, a leak or a failed
# invariant; the input is kept in the scratch folder printed at the end (docs/FUZZING.md
# says how to turn it into a corpus entry).
#   tests/fuzz/run.sh BINDIR SECONDS TARGET...
set -eu
bindir=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/lk-fuzz.XXXXXX")
failed=""
for t in "$@"; do
    work="$scratch/$t"
    mkdir -p "$work/corpus" "$work/crashes"
    cp "$here/corpus/$t/"* "$work/corpus/"
    dict=""
    [ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
    if "$bindir/$t" "$work/corpus" $dict -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
        >"$work/log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed="$failed $t"
    fi
    # The last progress line: executions, coverage (cov: edges, ft: features), speed.
    stats=$(grep -a -E '^#[0-9]+' "$work/log" | tail -n 1 | sed 's/^#\([0-9]*\)[[:space:]]*[A-Z]*/runs: \1/')
    execs=$(grep -a 'stat::average_exec_per_sec' "$work/log" | awk '{print $2}')
    printf '%-14s %-6s %ss  %s  exec/s: %s\n' "$t" "$status" "$seconds" "$stats" "${execs:-?}"
    if [ "$status" = FAILED ]; then
        grep -a -E 'invariant failed|ERROR: |SUMMARY|runtime error' "$work/log" | head -n 5 | sed 's/^/    /'
        ls "$work/crashes" | sed "s|^|    input: $work/crashes/|"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (logs and inputs in $scratch)"
    exit 1
fi
rm -rf "$scratch"
