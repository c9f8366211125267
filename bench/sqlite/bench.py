#!/usr/bin/env python3
"""SQLite's cost per small request, before and after: two Wharf builds (a base commit's and the working tree's), each
serving its own data directory in open mode on its defaults (SQLite + filesystem), on the small-request rows of
bench/run (manifest GET by tag with wrk, blob HEAD with ab), both warm, in paired bursts back to back (the order
alternating) so drift on a busy machine hits both alike. Driven by bench/sqlite/run; standard library only; reuses
bench/bench.py's client code."""
import argparse, os, shutil, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402


def start(name, dll, work):
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
    env = dict(os.environ, Logging__LogLevel__Default="Warning", **limits)
    port = b.free_port()
    srv = b.Server(name, ["dotnet", dll, "serve", "--port", str(port), "--public-port", "0",
                          "--data-dir", os.path.join(work, name), "--auth", "open"], port, env)
    srv.layer = b.push_small_image(srv, "bench/app", ["latest"])
    return srv



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-dll", required=True, help="wharf.dll of the build to compare against")
    ap.add_argument("--wharf-dll", required=True, help="wharf.dll of the build measured")
    ap.add_argument("--base-name", default="base")
    ap.add_argument("--warmup", type=int, default=30, help="load per row per server before measuring (default 30 s)")
    ap.add_argument("--seconds", type=int, default=4, help="one burst of load (default 4 s)")
    ap.add_argument("--rounds", type=int, default=8, help="paired bursts per row; medians are reported (default 8)")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-sqlite-bench-")
    servers = []
    try:
        base = start("base", args.base_dll, work)
        servers.append(base)
        new = start("new", args.wharf_dll, work)
        servers.append(new)
        b.warm_pair(new, base, b.small_burst, args.warmup)
        rows = b.paired_rows(new, base, b.small_burst, args.rounds, args.seconds)
        lines = [f"Both servers warm ({args.warmup} s of load per row each), then {args.rounds} pairs of {args.seconds}-s bursts "
                 f"per row, this tree and {args.base_name} back to back (the order alternating); medians, and the median of "
                 "the pairs' ratios.", "",
                 f"| row | this tree | {args.base_name} | this ÷ {args.base_name} (median of pairs) |", "|---|---:|---:|---:|"]
        for key, a, z, ratio in rows:
            lines.append(f"| {key} | {a:,.1f} | {z:,.1f} | {ratio:.3f} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
