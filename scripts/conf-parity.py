#!/usr/bin/env python3
"""Print what the official StorPool reader (storpool 7.3.0, `storpool.spconfig`) makes of a
configuration, as one JSON object, so that it can be compared with `sp-conf --json`.

Usage: conf-parity.py MAIN_FILE SECTION
Prints {"vars": {...}} with the effective variables (environment overrides off), or
{"error": "..."} when the official reader refuses the files. Needs `pip install storpool==7.3.0`.
`scripts/conf-parity.sh` runs it over every case in the parity fixtures.
"""

import json
import sys

from storpool import spconfig


def main() -> None:
    main_file, section = sys.argv[1], sys.argv[2]
    spconfig.SPConfig.PATH_CONFIG = main_file
    spconfig.SPConfig.PATH_CONFIG_DIR = main_file + ".d"
    try:
        cfg = spconfig.SPConfig(section=section, use_env=False)
        result = {"vars": dict(cfg.items())}
    except spconfig.SPConfigException as exc:
        result = {"error": str(exc)}
    try:
        result["sections"] = spconfig.SPConfig.get_all_sections()
    except spconfig.SPConfigException:
        result["sections"] = None
    print(json.dumps(result, sort_keys=True, indent=1))


if __name__ == "__main__":
    main()
