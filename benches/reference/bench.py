"""The reference side of the benchmark comparison: the official StorPool Python bindings
(`storpool` 7.3.0, `spapi.Api`, typed calls) and os-brick 7.1.1's `storpool_utils.StorPoolAPI`
doing the rows of `benches/benches/api.rs` and `startup.rs` against the same simulators.

Usage (run by scripts/bench-reference.sh inside its virtualenv):

    bench.py --token T --sim close=URL --sim keep-alive=URL --sim list-1000=URL
             --sim list-100000=URL --conf STORPOOL_CONF [--driver-conf NAME=CONF ...]
             [--json FILE] [--quick]

Every row has the id of the matching Rust row and is printed, and appended to FILE as a JSON
line (`client` is `storpool` or `os-brick`). When this workspace's Python package is installed
too and `--driver-conf close=CONF --driver-conf keep-alive=CONF` name those simulators'
storpool.conf files, its `storpool_rs.Driver` (what the Cinder driver class calls) does the
lookup rows as `client` `storpool_rs`: the same calls from Python through our module. Peak
memory is measured in a child process (`bench.py --child peak KIND URL TOKEN`) the way the
Rust side does it: VmHWM after resetting it through /proc/self/clear_refs, minus the
resident size before decoding.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

LOOKUP = "bench-lookup"
TASKS = 16


def lazy_imports():
    """The clients, imported only where measured (start-up rows time the import itself)."""
    global spapi, sp, spType, storpool_utils
    from storpool import spapi
    from storpool import sptypes as sp
    from storpool.sptype import spType
    from os_brick.initiator import storpool_utils


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def bindings(url, token):
    host, port = host_port(url)
    return spapi.Api(host=host, port=port, auth=token, transientRetries=0)


def os_brick(url, token):
    host, port = host_port(url)
    return storpool_utils.StorPoolAPI(host, port, token, transient_retries=0)


def our_driver(conf):
    """A `storpool_rs.Driver` reading `conf`, or None without a conf or the package."""
    if conf is None:
        return None
    try:
        import storpool_rs
    except ImportError:
        return None
    # Plain `Volume/NAME`, as the other clients' lookups (not `MultiCluster/Volume/NAME`).
    return storpool_rs.Driver(conf, multi_cluster=False)


def fetch(url, token, call):
    """The raw bytes of one answer."""
    host, port = host_port(url)
    conn = http.client.HTTPConnection(host, port, timeout=300)
    try:
        conn.request("GET", "/ctrl/1.0/" + call, None, {"Authorization": "Storpool v1:" + token})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body[:200])
        return body
    finally:
        conn.close()


class Table:
    def __init__(self, args, client, title):
        self.args, self.client, self.title, self.rows = args, client, title, []

    def add(self, row_id, name, unit, values, calls=None):
        values = sorted(values)
        self.rows.append((row_id, name, unit, values, calls))

    def emit(self):
        print(f"\n{self.title}")
        width = max([len(r[1]) for r in self.rows] + [9])
        print(f"{'benchmark':<{width}}  {'runs':>8}  {'median':>12}  {'min':>12}  {'max':>12}")
        for row_id, name, unit, values, calls in self.rows:
            runs = f"{len(values)}x{calls}" if calls else str(len(values))
            med, lo, hi = values[len(values) // 2], values[0], values[-1]
            print(f"{name:<{width}}  {runs:>8}  {fmt(unit, med):>12}  {fmt(unit, lo):>12}  {fmt(unit, hi):>12}")
            if self.args.json:
                with open(self.args.json, "a") as f:
                    f.write(json.dumps({
                        "client": self.client, "table": self.title, "id": row_id, "name": name,
                        "unit": unit, "runs": len(values), "median": med, "min": lo, "max": hi,
                        "p99": values[round((len(values) - 1) * 0.99)],
                    }) + "\n")


def fmt(unit, v):
    if unit == "s":
        return f"{v * 1e3:.2f} ms" if v >= 1e-3 else f"{v * 1e6:.1f} µs"
    if unit == "ops/s":
        return f"{v:,.0f} /s"
    return f"{v / 1048576:.1f} MiB" if v >= 1048576 else f"{v / 1024:.1f} KiB"


def run_threads(tasks, ops, step):
    """`ops` steps split over `tasks` threads; returns the wall-clock seconds."""
    barrier = threading.Barrier(tasks + 1)
    errors = []

    def work(task):
        barrier.wait()
        try:
            for i in range(ops // tasks):
                step(task, i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(tasks)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def calls(args, sims, token):
    reps = 1 if args.quick else 5
    lookups, pairs = (32, 16) if args.quick else (1000, 300)
    gib = 1 << 30
    for mode, about in (("close", "Connection: close"), ("keep-alive", "keep-alive server")):
        url = sims[mode]
        api, osb = bindings(url, token), os_brick(url, token)
        try:
            api.volumeCreate({"name": LOOKUP, "size": 10 * gib, "replication": 3})
        except spapi.ApiError as e:
            assert e.name == "objectExists", e
        clients = {
            "storpool": {
                "lookup": lambda t, i: api.volumeList(LOOKUP),
                "create-delete": lambda t, i: (
                    api.volumeCreate({"name": f"py-sp-{t}-{i}", "size": gib, "replication": 3}),
                    api.volumeDelete(f"py-sp-{t}-{i}"),
                ),
            },
            "os-brick": {
                "lookup": lambda t, i: osb.volume(LOOKUP),
                "create-delete": lambda t, i: (
                    osb.volume_create({"name": f"py-ob-{t}-{i}", "size": gib, "replication": 3}),
                    osb.volume_delete(f"py-ob-{t}-{i}"),
                ),
            },
        }
        ours = our_driver(args.driver_confs.get(mode))
        if ours is not None:
            # `os--volume-bench-lookup`: the driver names volumes after the orchestrator's ids.
            if ours.find_volume(LOOKUP) is None:
                ours.create_volume(LOOKUP, 10)
            # Only lookups: the driver's create and delete are several calls each.
            clients["storpool_rs"] = {"lookup": lambda t, i: ours.get_volume(LOOKUP)}
        for client, steps in clients.items():
            table = Table(args, client, f"Calls per second, {client} ({about})")
            for what, count in (("lookup", lookups), ("create-delete", pairs)):
                if what not in steps:
                    continue
                for tasks in (1, TASKS):
                    run_threads(tasks, max(count // 10, tasks), steps[what])  # warm-up
                    runs = [count / run_threads(tasks, count, steps[what]) for _ in range(reps)]
                    key, label = ("seq", "sequential") if tasks == 1 else ("16", f"{tasks} concurrent threads")
                    name = ("Volume/NAME lookups" if what == "lookup" else "VolumeCreate+VolumeDelete pairs") + ", " + label
                    table.add(f"calls/{what}/{mode}/{key}", name, "ops/s", runs, count)
            table.emit()


def timed(runs, f):
    f()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return out


def child_peak(kind, url, token):
    out = subprocess.run([sys.executable, __file__, "--child", "peak", kind, url, token],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return None
    return int(out.stdout.strip().splitlines()[-1])


def lists(args, sims, token):
    typed = spType([sp.VolumeSummary]).handleVal
    for count in ((100, 1000) if args.quick else (1000, 100000)):
        url = sims[f"list-{count}"]
        raw = fetch(url, token, "VolumesList")
        assert len(json.loads(raw)["data"]) == count
        runs = 2 if args.quick else (5 if count > 10000 else 30)
        api, osb = bindings(url, token), os_brick(url, token)
        title = f"VolumesList of {count} volumes ({len(raw) / 1e6:.1f} MB)"

        t = Table(args, "storpool", title + ", storpool")
        t.add(f"list/{count}/fetch-typed", "fetch + decode, typed: Api.volumesList()", "s",
              timed(runs, lambda: api.volumesList()))
        t.add(f"list/{count}/fetch-value", "fetch + decode, raw: volumesList(returnRawAPIData=True)", "s",
              timed(runs, lambda: api.volumesList(returnRawAPIData=True)))
        t.add(f"list/{count}/decode-typed", "decode only, typed (json.loads + [VolumeSummary])", "s",
              timed(runs, lambda: typed(json.loads(raw)["data"])))
        t.add(f"list/{count}/decode-value", "decode only, json.loads", "s",
              timed(runs, lambda: json.loads(raw)))
        for kind in ("typed", "value"):
            peaks = [p for p in (child_peak(kind, url, token) for _ in range(1 if args.quick else 3)) if p is not None]
            if peaks:
                t.add(f"list/{count}/peak-{kind}", f"peak memory growth of decoding, {kind}", "bytes", peaks)
        t.emit()

        t = Table(args, "os-brick", title + ", os-brick")
        t.add(f"list/{count}/fetch-value", "fetch + decode: StorPoolAPI.volumes_list()", "s",
              timed(runs, lambda: osb.volumes_list()))
        # The whole command in a fresh process, next to `sp-volume --json list`.
        host, port = host_port(url)
        code = ("from os_brick.initiator import storpool_utils\n"
                f"api = storpool_utils.StorPoolAPI({host!r}, {port!r}, {token!r})\n"
                "print(len(api.volumes_list()))")

        def fresh():
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"volumes_list() in a fresh process failed: {out.stderr}")
            assert int(out.stdout) == count, out.stdout
        t.add(f"list/{count}/fresh-process", "python3: import os-brick, volumes_list() (fresh process)", "s",
              timed(runs, fresh))
        t.emit()


def peak_child(kind, url, token):
    raw = fetch(url, token, "VolumesList")

    def field(name):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
        raise SystemExit(f"no {name}")

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = field("VmRSS:")
    if kind == "typed":
        decoded = spType([sp.VolumeSummary]).handleVal(json.loads(raw)["data"])
    else:
        decoded = json.loads(raw)["data"]
    peak = field("VmHWM:")
    assert len(decoded) > 0
    print(max(peak - before, 0))


def startup(args, sims, token):
    """Process start to exit of the reference clients, next to sp-conf and sp-volume."""
    runs = 3 if args.quick else 30
    conf = args.conf
    read_conf = (
        "from storpool import spconfig\n"
        f"spconfig.SPConfig.PATH_CONFIG = {conf!r}\n"
        f"spconfig.SPConfig.PATH_CONFIG_DIR = {conf + '.d'!r}\n"
    )
    cases = {
        "storpool": [
            ("startup/import", "python3 -c 'import storpool.spapi'", "import storpool.spapi"),
            ("startup/sp-conf", "python3: spconfig.SPConfig() and print every variable",
             read_conf + "for k, v in spconfig.SPConfig().items(): print(f'{k}={v}')"),
            ("startup/one-call", "python3: import, read the config, one call (Volume/NAME), print",
             read_conf + "from storpool import spapi\n"
             f"print(spapi.Api.fromConfig(spconfig.SPConfig()).volumeList({LOOKUP!r}))"),
        ],
        "os-brick": [
            ("startup/import", "python3 -c 'from os_brick.initiator import storpool_utils'",
             "from os_brick.initiator import storpool_utils"),
            ("startup/one-call", "python3: import, one call (Volume/NAME), print",
             "from os_brick.initiator import storpool_utils\n"
             f"host, port, token = {host_port(sims['close'])[0]!r}, {host_port(sims['close'])[1]!r}, {token!r}\n"
             f"print(storpool_utils.StorPoolAPI(host, port, token).volume({LOOKUP!r}))"),
        ],
    }
    for client, rows in cases.items():
        t = Table(args, client, f"Process start to exit, {client}")
        for row_id, name, code in rows:
            def run():
                # stderr is kept for errors only: the bindings warn on every import that
                # simplejson is missing.
                out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
                if out.returncode != 0:
                    raise SystemExit(f"{name} failed: {out.stderr}")
            t.add(row_id, name, "s", timed(runs, run))
        t.emit()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        lazy_imports()
        _, _, what, kind, url, token = sys.argv
        assert what == "peak"
        peak_child(kind, url, token)
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--token", required=True)
    p.add_argument("--sim", action="append", default=[], metavar="NAME=URL")
    p.add_argument("--conf", required=True, help="a storpool.conf pointing at the close-mode sim")
    p.add_argument("--driver-conf", action="append", default=[], metavar="NAME=CONF",
                   help="the storpool.conf of simulator NAME, for storpool_rs's rows")
    p.add_argument("--json")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", choices=["calls", "lists", "startup"], action="append")
    args = p.parse_args()
    sims = dict(s.split("=", 1) for s in args.sim)
    args.driver_confs = dict(s.split("=", 1) for s in args.driver_conf)
    lazy_imports()
    for name, part in (("calls", calls), ("lists", lists), ("startup", startup)):
        if not args.only or name in args.only:
            part(args, sims, args.token)


if __name__ == "__main__":
    main()
