#!/usr/bin/env python3
"""Cold starts of Wharf on PostgreSQL (issue 19, targets 4 and 7), many of them, quickly: the two start rows of
`bench/run --only postgres` without the rest of its run. Standard library only.

One throwaway PostgreSQL cluster (bench.Postgres: initdb, trust, as nobody when root; the bench's settings). For each
round, for each given Wharf (taking turns, the order alternating between rounds, so drift on the machine falls on
all alike): a new database, a start on it (empty: the migrations run), the server stopped, a second start on the same
database (existing), stopped, the database dropped. A start is spawn to the first 200 on GET /v2/, polled every 2 ms,
as bench/run times it. Printed per Wharf: the median and quartiles of both starts, the Wharf process's CPU to get
there, and PostgreSQL's CPU (the postmaster's children: the backends' time, reaped by their parent) over each
start; then the load average, since on a busy machine wall times measure the queue for the cores too. Each round also
times the floor under an empty start: the same migrations sent by psql as one command to a new database, nothing else.

    pgstart.py [--runs 15] WHARF [WHARF ...]      # WHARF: a Native AOT executable, or a wharf.dll (run with dotnet)
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402


def psql(pg, sql, database="postgres"):
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", database, "-qAt", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


def one_start(pg, program, port, data, connection, log):
    """A start of program on the database: (wall ms, Wharf CPU ms, PostgreSQL CPU ms); the server stopped after it."""
    argv = [*program, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open",
            "--metadata", "postgres", "--metadata-connection", connection]
    before = b.children_cpu_ms(pg.pid)
    srv = b.Server("Wharf PostgreSQL", argv, port, b.wharf_env(), log=log)
    wharf_cpu = b.cpu_seconds(srv.pid) * 1000
    srv.stop()  # SIGKILL, as bench/run stops a server between its starts: its backends exit with their connections
    time.sleep(0.3)  # and are reaped (their CPU lands in the postmaster's cutime)
    return srv.cold_start_ms, wharf_cpu, b.children_cpu_ms(pg.pid) - before


def summary(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):7.1f} ({q[0]:.1f}–{q[2]:.1f})"


def main():
    ap = argparse.ArgumentParser(description="Cold starts of Wharf on PostgreSQL: empty and existing database")
    ap.add_argument("wharf", nargs="+", help="a Native AOT executable or a wharf.dll")
    ap.add_argument("--runs", type=int, default=15, help="rounds (each: one empty and one existing start per Wharf)")
    args = ap.parse_args()
    programs = [["dotnet", w] if w.endswith(".dll") else [w] for w in args.wharf]
    work = tempfile.mkdtemp(prefix="wharf-pgstart-")
    pg = b.Postgres(work)
    results = {w: {"empty": [], "existing": [], "empty wharf cpu": [], "empty pg cpu": [], "existing wharf cpu": [], "existing pg cpu": []}
               for w in args.wharf}
    loads = []; floor = {"wall": [], "pg cpu": []}
    try:
        log = open(os.path.join(work, "wharf.log"), "ab")
        for i in range(args.runs):
            order = list(zip(args.wharf, programs))
            if i % 2:
                order.reverse()
            for w, program in order:
                name = f"s{i}_{args.wharf.index(w)}"
                psql(pg, f"CREATE DATABASE {name}")
                connection = f"Host=127.0.0.1;Port={pg.port};Username=postgres;Database={name};Maximum Pool Size=100"
                data = os.path.join(work, name); os.makedirs(data)
                r = results[w]
                for kind in ("empty", "existing"):
                    wall, wcpu, pcpu = one_start(pg, program, b.free_port(), data, connection, log)
                    r[kind].append(wall); r[f"{kind} wharf cpu"].append(wcpu); r[f"{kind} pg cpu"].append(pcpu)
                psql(pg, f"DROP DATABASE {name}")
                shutil.rmtree(data)
            wall, cpu = pg.schema_alone(f"schema_alone_{i}")
            floor["wall"].append(wall); floor["pg cpu"].append(cpu)
            loads.append(os.getloadavg()[0])
            print(f"round {i + 1}/{args.runs} done, load {loads[-1]:.2f}", file=sys.stderr)
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.runs} rounds, load average during them {min(loads):.2f}–{max(loads):.2f}; median (quartiles), ms")
    print("| Wharf | empty database | its Wharf CPU | its PostgreSQL CPU | existing database | its Wharf CPU | its PostgreSQL CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for w in args.wharf:
        r = results[w]
        print(f"| {w} | {summary(r['empty'])} | {summary(r['empty wharf cpu'])} | {summary(r['empty pg cpu'])} | "
              f"{summary(r['existing'])} | {summary(r['existing wharf cpu'])} | {summary(r['existing pg cpu'])} |")
    print(f"| the migrations alone: psql sends them to an empty database as one command | {summary(floor['wall'])} | | "
          f"{summary(floor['pg cpu'])} | | | |")


if __name__ == "__main__":
    main()
