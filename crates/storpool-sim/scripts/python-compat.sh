#!/usr/bin/env bash
# Runs the official StorPool Python bindings (storpool 7.3.0) and os-brick 7.1.1's StorPool
# client against a freshly started storpool-sim. Not part of `cargo test`: it needs PyPI.
# Usage: crates/storpool-sim/scripts/python-compat.sh   (from the workspace root)
set -euo pipefail
cd "$(dirname "$0")/../../.."
VENV=${SP_COMPAT_VENV:-/tmp/storpool-sim-compat-venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q storpool==7.3.0 os-brick==7.1.1
fi
cargo build -q -p storpool-sim-bin
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./target/debug/storpool-sim --listen "127.0.0.1:$PORT" --state "$WORK/state" --dev-root "$WORK/dev" \
    --serve-client 1 --no-sync --write-config "$WORK/storpool.conf" -q &
PID=$!
for _ in $(seq 100); do [ -s "$WORK/storpool.conf" ] && break; sleep 0.1; done
"$VENV/bin/python" crates/storpool-sim/tests/python/compat.py "$WORK/storpool.conf" "$WORK/dev"
