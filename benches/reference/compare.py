"""Joins the JSON lines of the Rust bench targets and of bench.py into one table: per row the
Rust figure, each reference client's figure and the ratio (how many times better Rust is:
higher calls/s, or less time or memory); then, when bench.py measured our Python module
(`storpool_rs`), its rows next to the reference clients and the Rust client; then the issue's
targets.

Usage: compare.py ROWS.jsonl        (stdlib only)

Rows with the same id on both sides are compared automatically. CROSS pairs rows whose ids
differ: a binary's start-up next to a Python import. To add a row to the comparison, give the
Rust row and the Python row the same id, or add a line to CROSS.
"""

import json
import sys

CLIENTS = ("storpool", "os-brick")
NAMES = {"storpool": "storpool 7.3.0", "os-brick": "os-brick 7.1.1"}

# (label, Rust row id, reference row id)
CROSS = [
    ("start + read storpool.conf + print (sp-conf) vs. start + import only", "startup/sp-conf", "startup/import"),
    ("start + one local call: sp-volume stats vs. import + config + Volume/NAME", "startup/sp-volume-stats", "startup/one-call"),
]


def fmt(row):
    if row is None:
        return "—"
    if "skipped" in row:
        return "skipped"
    unit, med, lo, hi = row["unit"], row["median"], row["min"], row["max"]

    def one(v):
        if unit == "s":
            return f"{v * 1e3:.2f} ms" if v < 1 else f"{v:.2f} s"
        if unit == "ops/s":
            return f"{v:,.0f}/s"
        return f"{v / 1048576:.1f} MiB"

    return f"{one(med)} ({one(lo)}–{one(hi)})"


def ratio(rust, ref):
    """How many times better the Rust figure is (medians)."""
    if not rust or not ref or "skipped" in rust or "skipped" in ref:
        return None
    if rust["unit"] == "ops/s":
        return rust["median"] / ref["median"]
    return ref["median"] / rust["median"] if rust["median"] else None


def fmt_ratio(r):
    return "—" if r is None else f"{r:.1f}x"


def main():
    rows = {}
    order = []
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line:
            continue
        row = json.loads(line)
        key = (row["client"], row["id"])
        rows[key] = row
        if row["client"] == "rust" and row["id"] not in order:
            order.append(row["id"])

    header = "| row | Rust (storpool-rs) | " + " | ".join(f"{NAMES[c]} | ratio" for c in CLIENTS) + " |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(CLIENTS)))
    lines = [(rows[("rust", i)]["name"] + f" `{i}`", i, i) for i in order]
    lines += [(label, r, p) for (label, r, p) in CROSS if ("rust", r) in rows]
    for label, rust_id, ref_id in lines:
        rust = rows.get(("rust", rust_id))
        cells = [label, fmt(rust)]
        for c in CLIENTS:
            ref = rows.get((c, ref_id))
            cells += [fmt(ref), fmt_ratio(ratio(rust, ref))]
        print("| " + " | ".join(cells) + " |")

    ours = [i for i in order if ("storpool_rs", i) in rows]
    if ours:
        print("\nFrom Python: our module (`storpool_rs.Driver`, what the Cinder driver class calls) "
              "next to the reference clients; ratio: how many times the calls/s of the reference client")
        print("| row | storpool_rs | " + " | ".join(f"{NAMES[c]} | ratio" for c in CLIENTS)
              + " | Rust client | storpool_rs / Rust |")
        print("|" + "---|" * (4 + 2 * len(CLIENTS)))
        for i in ours:
            mine = rows[("storpool_rs", i)]
            cells = [f"{mine['name']} `{i}`", fmt(mine)]
            for c in CLIENTS:
                ref = rows.get((c, i))
                cells += [fmt(ref), fmt_ratio(ratio(mine, ref))]
            rust = rows.get(("rust", i))
            share = ratio(mine, rust)
            cells += [fmt(rust), "—" if share is None else f"{share:.0%}"]
            print("| " + " | ".join(cells) + " |")

    print("\nTargets (medians):")

    def check(what, ok, detail):
        print(f"- [{'met' if ok else 'NOT met'}] {what}: {detail}")

    call_ratios = [(f"{i} vs {NAMES[c]}", ratio(rows.get(("rust", i)), rows.get((c, i))))
                   for i in order if i.startswith("calls/") for c in CLIENTS]
    call_ratios = [(what, r) for what, r in call_ratios if r is not None]
    if call_ratios:
        missed = [f"{what} {r:.1f}x" for what, r in call_ratios if r < 3]
        check("Rust >= 3x the reference clients' calls/s", not missed,
              f"{len(call_ratios) - len(missed)} of {len(call_ratios)} comparisons"
              + (f"; below: {', '.join(missed)}" if missed else ""))
    for i in order:
        floor = rows.get(("rust", i + "/bare"))
        if floor and "skipped" not in floor:
            share = rows[("rust", i)]["median"] / floor["median"]
            print(f"- [info] {i}: the Rust client reaches {share:.0%} of a bare HTTP client's rate on this server")
    for n in ("100000",):
        r = ratio(rows.get(("rust", f"list/{n}/fetch-typed")), rows.get(("storpool", f"list/{n}/fetch-typed")))
        if r is not None:
            check(f"VolumesList of {n}: typed fetch+decode >= 10x the bindings' typed path", r >= 10, f"{r:.1f}x")
        typed, bare = rows.get(("rust", f"list/{n}/fetch-typed")), rows.get(("rust", f"list/{n}/fetch-bare"))
        ref = rows.get(("storpool", f"list/{n}/fetch-typed"))
        if typed and bare and ref:
            print(f"- [info] VolumesList of {n}: the server's answer alone (bare fetch) takes "
                  f"{bare['median'] * 1e3:.0f} ms of Rust's {typed['median'] * 1e3:.0f} ms; with that share "
                  f"the most any client can be ahead of the bindings' {ref['median'] * 1e3:.0f} ms is "
                  f"{ref['median'] / bare['median']:.1f}x")
        decode = ratio(rows.get(("rust", f"list/{n}/decode-typed")), rows.get(("storpool", f"list/{n}/decode-typed")))
        if decode is not None:
            print(f"- [info] VolumesList of {n}: decoding alone (bytes in memory) is {decode:.1f}x the bindings' typed decoding")
        # Issue 16.
        dt, ds = rows.get(("rust", f"list/{n}/decode-typed")), rows.get(("rust", f"list/{n}/decode-syntax"))
        if dt and ds and "skipped" not in dt and "skipped" not in ds:
            f = dt["median"] / ds["median"]
            check(f"VolumesList of {n}: typed decoding within 2x of the syntax check (issue 16, item 1)",
                  f <= 2, f"{f:.2f}x ({dt['median'] * 1e3:.0f} ms vs {ds['median'] * 1e3:.0f} ms)")
        r = ratio(rows.get(("rust", f"list/{n}/fresh-process")), rows.get(("os-brick", f"list/{n}/fresh-process")))
        if r is not None:
            check(f"VolumesList of {n}: sp-volume --json list >= 5x os-brick's volumes_list(), fresh processes "
                  "(issue 16, item 3)", r >= 5, f"{r:.1f}x")
        r = ratio(rows.get(("rust", f"list/{n}/decode-raw")), rows.get(("storpool", f"list/{n}/decode-value")))
        if r is not None:
            check(f"VolumesList of {n}: raw decoding >= 2x Python's json.loads (issue 16, item 4)", r >= 2, f"{r:.1f}x")
        value = rows.get(("rust", f"list/{n}/fetch-value"))
        if typed and value:
            f = typed["median"] / value["median"]
            check(f"VolumesList of {n}: typed fetch+decode within 2x of the Value floor", f <= 2,
                  f"typed takes {f:.2f}x the time of Value")
    for i in order:
        if i.startswith("startup/"):
            row = rows[("rust", i)]
            if "skipped" in row:
                print(f"- [skipped] {i}: {row['skipped']}")
            else:
                check(f"{row['name']} starts and exits in under 10 ms", row["median"] < 0.010,
                      f"{row['median'] * 1e3:.2f} ms")
    for c in CLIENTS:
        imp = rows.get((c, "startup/import"))
        if imp:
            print(f"- [{'as stated' if imp['median'] > 0.1 else 'faster than stated'}] {NAMES[c]} import: "
                  f"{imp['median'] * 1e3:.0f} ms (the issue says over 100 ms)")


if __name__ == "__main__":
    main()
