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
    stats=$(grep -a -E '^#[0-9]+' "$work/log" | tail -n 1 | awk '{
        for (i = 1; i < NF; i++) if ($i ~ /^(cov|ft|corp|exec\/s):$/) v[$i] = $(i + 1);
        printf "runs: %s  cov: %s  ft: %s  corpus: %s  exec/s: %s", substr($1, 2), v["cov:"],
               v["ft:"], v["corp:"], v["exec/s:"] }')
    printf '%-14s %-6s %4ss  %s\n' "$t" "$status" "$seconds" "$stats"
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
