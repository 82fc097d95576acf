#!/usr/bin/env bash
# Builds and installs the Python package `storpool-rs` (python/) into a throwaway virtualenv,
# the way a user does (`pip install ./python`: maturin fetched by pip as the build backend),
# and runs its suites against real `storpool-sim` processes:
#
#   1. the bindings' pytest suite (python/tests), with os-brick for the connector tests;
#   2. Cinder 29.0.0's functional tests with storpool_rs.cinder.StorPoolDriver as the
#      backend, and our scenarios through Cinder's REST API (python/tests/functional), run
#      with `python -m unittest` as Cinder's harness requires.
#
# Usage: scripts/python-tests.sh [--bindings|--cinder]   (both by default)
# Environment: PYTHON (default python3), KEEP_VENV=DIR to reuse a virtualenv between runs,
# MATURIN_PEP517_ARGS (e.g. `--profile dev` for a faster, unoptimized build).
set -euo pipefail
cd "$(dirname "$0")/.."

run_bindings=1
run_cinder=1
case "${1:-}" in
    --bindings) run_cinder=0 ;;
    --cinder) run_bindings=0 ;;
    "") ;;
    *) echo "usage: $0 [--bindings|--cinder]" >&2; exit 2 ;;
esac

log() { printf '\n== %s\n' "$*" >&2; }

python=${PYTHON:-python3}
if [ -n "${KEEP_VENV:-}" ]; then
    venv=$KEEP_VENV
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    venv=$tmp/venv
fi
if [ ! -x "$venv/bin/python" ]; then
    log "virtualenv $venv"
    "$python" -m venv "$venv"
fi
pip() { "$venv/bin/python" -m pip --disable-pip-version-check -q "$@"; }

log "cinder 29.0.0 and the test tools"
started=$SECONDS
# Cinder brings os-brick; its test harness needs fixtures, oslotest, ddt and testtools;
# mypy checks the type stubs.
pip install cinder==29.0.0 fixtures oslotest ddt testtools pytest mypy
echo "installed in $((SECONDS - started)) s" >&2

log "pip install ./python"
started=$SECONDS
pip install ./python
echo "built and installed in $((SECONDS - started)) s" >&2
"$venv/bin/python" -c "import storpool_rs, storpool_rs.cinder, storpool_rs.os_brick; print('storpool_rs', storpool_rs.__version__)"

log "storpool-sim"
cargo build --locked -q -p storpool-sim-bin
target=$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export STORPOOL_SIM=$target/debug/storpool-sim

export PYTHONWARNINGS=ignore
status=0
if [ "$run_bindings" = 1 ]; then
    log "bindings: pytest python/tests"
    started=$SECONDS
    (cd python/tests && "$venv/bin/python" -m pytest -q -p no:cacheprovider) || status=1
    echo "bindings: $((SECONDS - started)) s" >&2
fi
if [ "$run_cinder" = 1 ]; then
    # Cinder's harness reads etc/cinder/api-paste.ini next to the installed package.
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    mkdir -p "$site/etc/cinder"
    cp "$venv/etc/cinder/api-paste.ini" "$venv/etc/cinder/resource_filters.json" "$site/etc/cinder/"
    log "Cinder functional: python -m unittest test_cinder"
    started=$SECONDS
    (cd python/tests/functional && "$venv/bin/python" -W ignore -m unittest -v test_cinder 2>&1 \
        | grep -E '^(test_|Ran |OK|FAILED|ERROR|FAIL:|Traceback|  File|[A-Za-z.]*(Error|Exception))' \
        ; exit "${PIPESTATUS[0]}") || status=1
    echo "Cinder functional: $((SECONDS - started)) s" >&2
fi
exit $status
