#!/usr/bin/env bash
# Regenerates the expected results of the storpool.conf parity fixtures from the official
# StorPool reader. Each case is a folder under crates/storpool-conf/tests/it/fixtures/parity/
# holding `storpool.conf` (and maybe `storpool.conf.d/`) and `section` (the section to read);
# this writes `official.json` next to them. The tests compare our reader with those files.
#
# Usage: scripts/conf-parity.sh            (creates a throwaway virtualenv in a temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q storpool==7.3.0
for case in crates/storpool-conf/tests/it/fixtures/parity/*/; do
    "$venv/bin/python" scripts/conf-parity.py "$case/storpool.conf" "$(cat "$case/section")" \
        > "$case/official.json"
    echo "$case: $(head -c 60 "$case/official.json" | tr '\n' ' ')"
done
