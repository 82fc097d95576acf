#!/usr/bin/env bash
# Measures this workspace next to the reference Python clients, on the same machine, against the
# same simulators, in one run, and prints one table with the ratio per row (see
# docs/benchmarks.md).
#
# 1. Installs storpool==7.3.0 and os-brick==7.1.1 into a throwaway virtualenv (needs PyPI),
#    and this workspace's Python package (./python), whose Driver does the lookup rows too.
# 2. Builds the release binaries and the bench targets; writes two state directories holding
#    1,000 and 100,000 volumes.
# 3. Starts four storpool-sim processes (release build, --no-sync): `close` (the default
#    Connection: close mode), `keep-alive`, `list-1000` and `list-100000`.
# 4. Runs the Rust side (bench targets `api` and `startup`, pointed at those servers), then the
#    Python side (benches/reference/bench.py), both appending JSON lines to one file.
# 5. Prints the comparison (benches/reference/compare.py).
#
# Usage: scripts/bench-reference.sh [--quick]      (from anywhere; --quick: tiny sizes, 1 run)
# Environment: BENCH_REF_VENV=DIR reuses (or creates) that virtualenv instead of a throwaway one;
#              BENCH_REF_ROWS=FILE keeps the raw JSON lines there.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=()
SIZES=(1000 100000)
if [ "${1:-}" = "--quick" ]; then
    QUICK=(--quick)
    SIZES=(100 1000)
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

VENV=${BENCH_REF_VENV:-$WORK/venv}
if [ ! -x "$VENV/bin/python" ]; then
    echo "== installing storpool==7.3.0 and os-brick==7.1.1 into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q storpool==7.3.0 os-brick==7.1.1
fi

echo "== pip install ./python (our module, for the rows of storpool_rs.Driver)" >&2
"$VENV/bin/pip" install -q --force-reinstall --no-deps ./python

echo "== building (release)" >&2
cargo build -q --release --locked --bins
cargo bench -q --locked -p storpool-benches --no-run
bench() { cargo bench -q --locked -p storpool-benches --bench "$@"; }

TOKEN=$(python3 -c 'import secrets; print(10**18 + secrets.randbelow(9 * 10**18))')
for n in "${SIZES[@]}"; do
    echo "== seeding $n volumes" >&2
    bench api -- seed "$WORK/list-$n" "$n"
done

# start_sim NAME [FLAGS...]: starts a simulator on a free port; sets URL_NAME.
start_sim() {
    local name=$1
    shift
    ./target/release/storpool-sim --listen 127.0.0.1:0 --token "$TOKEN" --state "$WORK/$name" \
        --dev-root "$WORK/dev-$name" --no-sync -q --write-config "$WORK/$name.conf" "$@" &
    PIDS+=($!)
    for _ in $(seq 300); do
        grep -qs '^SP_API_HTTP_PORT=' "$WORK/$name.conf" && break
        sleep 0.1
    done
    local port
    port=$(sed -n 's/^SP_API_HTTP_PORT=//p' "$WORK/$name.conf")
    [ -n "$port" ] || { echo "storpool-sim $name did not start" >&2; exit 1; }
    printf -v "URL_${name//-/_}" 'http://127.0.0.1:%s' "$port"
}
start_sim close
start_sim keep-alive --keep-alive
SIMS=(--token "$TOKEN" --sim "close=$URL_close" --sim "keep-alive=$URL_keep_alive")
for n in "${SIZES[@]}"; do
    start_sim "list-$n"
    url_var="URL_list_$n"
    SIMS+=(--sim "list-$n=${!url_var}")
done

ROWS=${BENCH_REF_ROWS:-$WORK/rows.jsonl}
: > "$ROWS"
echo "== Rust: api" >&2
bench api -- "${QUICK[@]}" "${SIMS[@]}" --json "$ROWS"
echo "== Rust: startup" >&2
bench startup -- "${QUICK[@]}" "${SIMS[@]}" --json "$ROWS"
echo "== Python: storpool 7.3.0, os-brick 7.1.1 and storpool_rs" >&2
"$VENV/bin/python" benches/reference/bench.py "${QUICK[@]}" "${SIMS[@]}" \
    --conf "$WORK/close.conf" --driver-conf "close=$WORK/close.conf" \
    --driver-conf "keep-alive=$WORK/keep-alive.conf" --json "$ROWS"

echo
echo "== Rust vs the reference clients (same machine, same storpool-sim processes)"
echo "   machine: $(nproc) cores, $(uname -sr), load before the comparison: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 benches/reference/compare.py "$ROWS"
