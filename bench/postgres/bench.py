#!/usr/bin/env python3
"""PostgreSQL's per-request cost beside SQLite's, on one node. Driven by bench/postgres/run; standard
library only; reuses bench/bench.py's client code (wrk for manifest GETs, ab for blob HEADs) and
bench/cluster/cluster.py's PostgreSQL (initdb in a temporary directory, PostgreSQL 15 from the
installed binaries, as nobody when run as root).

Servers, each warm and running for the whole run: Wharf on PostgreSQL, Wharf on SQLite, and (with
--baseline-dll) a second build on PostgreSQL, on its own database of the same PostgreSQL, and on SQLite, for
a before/after of both engines in one run. Load comes in short bursts, the servers in turn (the order alternating), so
drift on a busy machine hits every server alike; medians are reported. CPU per request is Wharf's
(utime+stime of its process ÷ requests) and PostgreSQL's (utime+stime of the postmaster and all its
backends ÷ requests). PUT manifest latency is the median of --puts sequential PUTs of distinct small
manifests (each a new tag) on one keep-alive connection.

--trace instead prints the statements PostgreSQL receives for one manifest GET by tag, one blob HEAD
and one PUT manifest (log_statement=all while each request runs), the round trips they cost."""
import argparse, hashlib, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
import bench as b  # noqa: E402
import cluster as c  # noqa: E402

LIMITS = {f"WHARF__Limits__{k1}__{k2}": "1000000000" for k1 in ("Pull", "Push", "Read") for k2 in ("RequestsPerSecond", "Burst")}


def psql(pg, sql, database="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", database, "-At", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def start(name, dll, work, metadata, extra_env=()):
    data = os.path.join(work, name.replace(" ", "-"))
    os.makedirs(data)
    port = b.free_port()
    argv = ["dotnet", dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"]
    if metadata:
        argv += ["--metadata", "postgres", "--metadata-connection", metadata]
    env = dict(os.environ, Logging__LogLevel__Default="Warning", **LIMITS)
    env.update(kv.split("=", 1) for kv in extra_env)
    srv = b.Server(name, argv, port, env)
    srv.layer = b.push_small_image(srv, "bench/app", ["latest"])
    srv.puts = 0
    return srv


def manifest(layer, config, serial):
    """A small image manifest, distinct by its annotation."""
    return json.dumps({"schemaVersion": 2, "mediaType": b.OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config[0], "size": config[1]},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 4096}],
                       "annotations": {"serial": str(serial)}}).encode()


def config_of(srv):
    cfg = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    return "sha256:" + hashlib.sha256(cfg).hexdigest(), len(cfg)


def put_ms(srv, count, pg=None):
    """Median ms of `count` sequential PUTs of distinct manifests, each a new tag, on one keep-alive connection; with
    `pg`, also Wharf's and PostgreSQL's CPU per PUT (µs) over those PUTs (the first 5, unmeasured, excluded)."""
    conn = srv.conn(); times = []; cfg = config_of(srv)
    for i in range(count + 5):
        if i == 5:
            cpu0, pg0 = srv.cpu(), sum(c.cpu_by_pid(c.tree(pg.pid)).values()) if pg else 0
        srv.puts += 1
        body = manifest(srv.layer, cfg, srv.puts)
        t = time.perf_counter()
        b.request(conn, "PUT", f"/v2/bench/app/manifests/p{srv.puts}", body, {"Content-Type": b.OCI_MANIFEST}, (201,))
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    if pg is None:
        return statistics.median(times[5:])
    cpu = (srv.cpu() - cpu0) / count * 1e6
    pgcpu = (sum(c.cpu_by_pid(c.tree(pg.pid)).values()) - pg0) / count * 1e6
    return statistics.median(times[5:]), cpu, pgcpu


def burst(srv, row, seconds, pg):
    """rps, Wharf µs CPU per request, PostgreSQL µs CPU per request."""
    pg_pids = c.tree(pg.pid)
    before = sum(c.cpu_by_pid(pg_pids).values())
    if row == "manifest":
        # wrk reports the requests; bench.wrk returns CPU per request, from which the count follows.
        rps, cpu = b.wrk(srv, "/v2/bench/app/manifests/latest", headers=[f"Accept: {b.OCI_MANIFEST}"], seconds=seconds)
    else:
        rps, cpu = b.ab_head(srv, f"/v2/bench/app/blobs/{srv.layer}", seconds=seconds)
    after = sum(c.cpu_by_pid(c.tree(pg.pid)).values())
    return rps, cpu, (after - before) / max(rps * seconds, 1) * 1e6


def wal_fsync_ms(pg):
    """One WAL flush on this disk, as PostgreSQL does it (pg_test_fsync's figure for the server's wal_sync_method, one
    8 kB write): the floor of any commit with synchronous_commit on, so of a PUT manifest."""
    method = psql(pg, "SHOW wal_sync_method").strip()
    out = subprocess.run([f"{pg.bin}/pg_test_fsync", "-s", "2", "-f", os.path.join(pg.dir, "fsync.test")], capture_output=True, text=True).stdout
    section = out.split("using one 8kB write", 1)[1].split("Compare", 1)[0]
    found = re.search(rf"^\s+{method}\s+[\d.]+ ops/sec\s+(\d+) usecs/op", section, re.M)
    return method, (int(found.group(1)) / 1000 if found else float("nan"))


def trace(pg, srv):
    """The statements PostgreSQL receives for one request of each kind, as logged with log_statement=all."""
    log = os.path.join(pg.dir, "log")
    cfg = config_of(srv)
    conn = srv.conn()
    serial = [0]

    def put():
        serial[0] += 1
        b.request(conn, "PUT", f"/v2/bench/app/manifests/traced{serial[0]}", manifest(srv.layer, cfg, f"traced{serial[0]}"),
                  {"Content-Type": b.OCI_MANIFEST}, (201,))
    requests = [
        ("manifest GET by tag", lambda: b.request(conn, "GET", "/v2/bench/app/manifests/latest", None, {"Accept": b.OCI_MANIFEST}, (200,))),
        ("blob HEAD", lambda: b.request(conn, "HEAD", f"/v2/bench/app/blobs/{srv.layer}", None, None, (200,))),
        ("PUT manifest (a new manifest, a new tag)", put),
    ]
    for name, send in requests:
        for _ in range(20):
            send()  # warm: the statements auto-prepared, the caches filled, as in steady state
        # Background work (leases, outbox, audit) may log statements of its own while a request is traced:
        # the fewest statements of five traced requests is the request's.
        best = None
        for _ in range(5):
            time.sleep(1.0)
            psql(pg, "ALTER SYSTEM SET log_statement = 'all'"); psql(pg, "SELECT pg_reload_conf()")
            time.sleep(0.3)
            start = os.path.getsize(log)
            send()
            time.sleep(0.2)
            psql(pg, "ALTER SYSTEM RESET log_statement"); psql(pg, "SELECT pg_reload_conf()")
            with open(log, errors="replace") as f:
                f.seek(start); lines = f.read().splitlines()
            statements = [re.sub(r"^.*?LOG:\s+", "", line) for line in lines if "LOG:" in line and ("statement:" in line or "execute" in line)]
            statements = [s for s in statements if "pg_reload_conf" not in s and "log_statement" not in s]
            if best is None or len(statements) < len(best):
                best = statements
        print(f"\n### {name}: {len(best)} statements\n")
        for s in best:
            print("    " + re.sub(r"\s+", " ", s)[:300])
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--baseline-dll", help="also run this build on PostgreSQL (its own database) and on SQLite, for a before/after in one run")
    ap.add_argument("--warmup", type=int, default=20, help="load per row per server before measuring (default 20 s)")
    ap.add_argument("--seconds", type=int, default=4, help="one burst of load (default 4 s)")
    ap.add_argument("--rounds", type=int, default=5, help="bursts per row per server; medians are reported (default 5)")
    ap.add_argument("--puts", type=int, default=200, help="sequential PUTs per latency sample (default 200)")
    ap.add_argument("--put-only", action="store_true", help="only the PUT manifest row (no warm-up of the read rows)")
    ap.add_argument("--trace", action="store_true", help="print the statements of one request of each kind instead")
    ap.add_argument("--pg-extra", default="", help="appended to the PostgreSQL connection string (e.g. ';Multiplexing=true')")
    ap.add_argument("--baseline-pg-extra", default="", help="appended to the baseline's connection string instead of --pg-extra")
    ap.add_argument("--wal-sync-method", help="PostgreSQL's wal_sync_method (default: the server's, fdatasync on Linux)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment of the build under test (repeatable)")
    ap.add_argument("--baseline-env", action="append", default=[], metavar="KEY=VALUE", help="environment of the baseline build (repeatable)")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-bench-pg-")
    os.chmod(work, 0o755)  # PostgreSQL runs as nobody when we are root
    pg, servers = None, []
    try:
        pg = c.Postgres(work)
        if args.wal_sync_method:
            psql(pg, f"ALTER SYSTEM SET wal_sync_method = '{args.wal_sync_method}'"); psql(pg, "SELECT pg_reload_conf()")
        fsync = wal_fsync_ms(pg)
        conn = pg.connection() + args.pg_extra
        pgsrv = start("PostgreSQL", args.wharf_dll, work, conn, args.env)
        servers.append(pgsrv)
        if args.trace:
            trace(pg, pgsrv)
            return
        servers.append(start("SQLite", args.wharf_dll, work, None, args.env))
        if args.baseline_dll:
            psql(pg, "CREATE DATABASE wharf_base")
            base = pg.connection() + args.baseline_pg_extra
            servers.append(start("PostgreSQL baseline", args.baseline_dll, work, base.replace("Database=wharf", "Database=wharf_base"), args.baseline_env))
            servers.append(start("SQLite baseline", args.baseline_dll, work, None, args.baseline_env))
        rows = () if args.put_only else ("manifest", "head")
        for half in range(2):
            for srv in servers:
                for row in rows:
                    burst(srv, row, max(args.warmup // 2, 1), pg)
                put_ms(srv, 20)
        results = {srv.name: {k: [] for k in ("manifest", "manifest cpu", "manifest pg", "head", "head cpu", "head pg", "put", "put cpu", "put pg")} for srv in servers}
        for i in range(args.rounds):
            order = servers if i % 2 == 0 else servers[::-1]
            for row in rows:
                for srv in order:
                    rps, cpu, pgcpu = burst(srv, row, args.seconds, pg)
                    r = results[srv.name]
                    r[row].append(rps); r[row + " cpu"].append(cpu); r[row + " pg"].append(pgcpu)
            for srv in order:
                ms, cpu, pgcpu = put_ms(srv, args.puts // args.rounds, pg)
                r = results[srv.name]
                r["put"].append(ms); r["put cpu"].append(cpu); r["put pg"].append(pgcpu)
                print(f"round {i + 1}: {srv.name}: PUT {ms:.2f} ms, Wharf {cpu:.0f} µs, PostgreSQL {pgcpu:.0f} µs per PUT", file=sys.stderr)
        med = {name: {k: statistics.median(v) if v else 0 for k, v in r.items()} for name, r in results.items()}
        names = [srv.name for srv in servers]
        lines = [f"Each server warm ({args.warmup} s of load per row), then {args.rounds} rounds of {args.seconds}-s bursts per row, "
                 f"the servers in turn (order alternating); PUT: {args.puts // args.rounds} sequential PUTs per round. Medians. "
                 f"PostgreSQL CPU: postmaster and backends. One WAL flush ({fsync[0]}, pg_test_fsync, one 8 kB write) on this disk: "
                 f"{fsync[1]:.2f} ms, the floor of a commit with synchronous_commit on.", "",
                 "| row | " + " | ".join(names) + " | PostgreSQL ÷ SQLite | target | |", "|---|" + "---:|" * len(names) + "---:|---|---|"]
        labels = [("manifest", "manifest GET by tag (rps)"), ("manifest cpu", "Wharf CPU per manifest GET (µs)"),
                  ("manifest pg", "PostgreSQL CPU per manifest GET (µs)"), ("head", "blob HEAD (rps)"),
                  ("head cpu", "Wharf CPU per blob HEAD (µs)"), ("head pg", "PostgreSQL CPU per blob HEAD (µs)"),
                  ("put", "PUT manifest, sequential (ms, median)"), ("put cpu", "Wharf CPU per PUT manifest (µs)"),
                  ("put pg", "PostgreSQL CPU per PUT manifest (µs)")]
        for key, label in labels:
            if not results["SQLite"][key]:
                continue
            p, s = med["PostgreSQL"][key], med["SQLite"][key]
            ratio = p / s if s else float("inf")
            target = verdict = ""
            if key in ("manifest", "head"):
                target, verdict = "≥ 0.50", "PASS" if ratio >= 0.5 else "MISS"
            elif key == "put":
                target, verdict = "≤ 2 ms", "PASS" if p <= 2 else "MISS"
            cells = " | ".join(f"{med[n][key]:,.2f}" if key == "put" else f"{med[n][key]:,.0f}" for n in names)
            lines.append(f"| {label} | {cells} | {ratio:.2f} | {target} | {verdict} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        for srv in servers:
            srv.stop()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
