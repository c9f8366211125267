#!/usr/bin/env python3
"""A steady stream of PUT manifests, for profiling and for before/after pairs of builds (bench/README.md, "PostgreSQL
per-request cost"): each --dll NAME=PATH on PostgreSQL (its own database of one PostgreSQL) and on SQLite, warmed, then
rounds of sequential PUTs, the builds alternating; per round the median latency, Wharf's and PostgreSQL's CPU per PUT
(/proc) and PostgreSQL transactions per PUT; --drain counts the background jobs' catch-up after each round; --threads
prints CPU per PUT by thread name; --perf NAME/pg (or NAME/sqlite) records a perf profile of that server under a steady stream."""
import argparse, os, sys, time, statistics, subprocess, tempfile, shutil
import importlib.util
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..")); sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
_spec = importlib.util.spec_from_file_location("pgbench", os.path.join(HERE, "bench.py"))
pb = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(pb)
import cluster as c

def threads(pid):
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            s = open(f"/proc/{pid}/task/{t}/stat").read()
            name = s[s.index("(")+1:s.rindex(")")]
            f = s[s.rindex(")")+2:].split()
            out[(t, name)] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError: pass
    return out

DRAIN = 0

def xacts(pg, db):
    if db is None: return 0
    time.sleep(1.2)
    return int(pb.psql(pg, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '%s'" % db).strip())

def loop(srv, n, pg, db=None):
    x0 = xacts(pg, db)
    conn = srv.conn(); cfg = pb.config_of(srv); times = []
    t0 = threads(srv.pid); cpu0 = srv.cpu(); pg0 = sum(c.cpu_by_pid(c.tree(pg.pid)).values())
    w0 = time.perf_counter()
    for i in range(n):
        srv.puts += 1
        body = pb.manifest(srv.layer, cfg, srv.puts)
        t = time.perf_counter()
        pb.b.request(conn, "PUT", f"/v2/bench/app/manifests/p{srv.puts}", body, {"Content-Type": pb.b.OCI_MANIFEST}, (201,))
        times.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - w0
    conn.close()
    if DRAIN: time.sleep(DRAIN)
    cpu = (srv.cpu() - cpu0) / n * 1e6
    pgcpu = (sum(c.cpu_by_pid(c.tree(pg.pid)).values()) - pg0) / n * 1e6
    t1 = threads(srv.pid)
    per = {}
    for k, v in t1.items():
        d = v - t0.get(k, 0)
        if d > 0:
            name = k[1]
            per[name] = per.get(name, 0) + d / n * 1e6
    x1 = xacts(pg, db)
    return statistics.median(times), cpu, pgcpu, per, wall, (x1 - x0) / n

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dll", action="append", required=True, help="name=path")
    ap.add_argument("--engines", default="pg,sqlite")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--puts", type=int, default=400)
    ap.add_argument("--perf", help="engine:name to perf record during an extra run")
    ap.add_argument("--perf-seconds", type=int, default=20)
    ap.add_argument("--threads", action="store_true")
    ap.add_argument("--warm", type=int, default=1500)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--drain", type=float, default=0)
    a = ap.parse_args()
    global DRAIN
    work = tempfile.mkdtemp(prefix="putprof-"); os.chmod(work, 0o755)
    pg = None; servers = []
    try:
        pg = c.Postgres(work)
        for i, spec in enumerate(a.dll):
            name, dll = spec.split("=", 1)
            for eng in a.engines.split(","):
                if eng == "pg":
                    db = f"w{i}{eng}"
                    pb.psql(pg, f"CREATE DATABASE {db}")
                    conn = pg.connection().replace("Database=wharf", f"Database={db}")
                else:
                    conn = None
                env = a.env + ["DOTNET_PerfMapEnabled=1", "DOTNET_EnableWriteXorExecute=0"] if a.perf else a.env
                srv = pb.start(f"{name}/{eng}", dll, work, conn, env)
                srv.db = db if eng == "pg" else None
                servers.append(srv)
        for srv in servers:
            loop(srv, a.warm, pg)  # warm (tiering)
        time.sleep(12)
        DRAIN = a.drain
        res = {s.name: [] for s in servers}
        for r in range(a.rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for srv in order:
                ms, cpu, pgcpu, per, wall, xa = loop(srv, a.puts, pg, srv.db)
                res[srv.name].append((ms, cpu, pgcpu))
                print(f"round {r+1} {srv.name}: PUT {ms:.3f} ms, Wharf {cpu:.0f} µs, PG {pgcpu:.0f} µs, {a.puts/wall:.0f} PUT/s, {xa:.2f} xacts/PUT", flush=True)
                if a.threads:
                    top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
                    print("    " + ", ".join(f"{k} {v:.0f}" for k, v in top), flush=True)
        print(f"load {os.getloadavg()}")
        for name, rows in res.items():
            print(f"{name}: median PUT {statistics.median(x[0] for x in rows):.3f} ms, Wharf CPU {statistics.median(x[1] for x in rows):.0f} µs, PG CPU {statistics.median(x[2] for x in rows):.0f} µs")
        if a.perf:
            srv = next(s for s in servers if s.name == a.perf)
            import threading
            stop = [False]
            def bg():
                while not stop[0]:
                    loop(srv, 100, pg)
            th = threading.Thread(target=bg); th.start()
            time.sleep(2)
            subprocess.run(["perf", "record", "-F", "1999", "-g", "-p", str(srv.pid), "-o", f"perf-{a.perf.replace('/','-')}.data", "--", "sleep", str(a.perf_seconds)], stderr=subprocess.DEVNULL)
            stop[0] = True; th.join()
            print(f"perf: {srv.puts} PUTs total")
    finally:
        for s in servers: s.stop()
        if pg: pg.stop()
        shutil.rmtree(work, ignore_errors=True)

main()
