#!/usr/bin/env python3
"""Pushes, before and after: two Wharf builds (--base-dll, --wharf-dll), each with blobs sealed (the default) and with
sealing off, four servers side by side, warm, pushing the same 512 MiB blobs monolithic and in 16 MiB PATCHes in paired
rounds whose order alternates, so drift on a busy machine hits all four alike. Reports the median MB/s and server CPU
per GB (utime+stime from /proc) of each, the medians of the pairs' ratios (new ÷ base), and sealed ÷ plain for each
build (issue 21 point 6). Driven by bench/pushes/run; standard library only; the client is bench/encryption's."""
import argparse, glob, os, shutil, statistics, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import bench as b  # noqa: E402
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("encryption_bench", os.path.join(HERE, "..", "encryption", "bench.py"))
enc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(enc)

MIB = 1 << 20
KINDS = ("monolithic", "chunked")


def start(name, dll, sealed, work):
    env = dict(os.environ, Logging__LogLevel__Default="Warning",
               **{f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")},
               **({} if sealed else enc.SEALING_OFF))
    port, data = b.free_port(), os.path.join(work, name)
    srv = b.Server(name, ["dotnet", dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"], port, env)
    srv.data = data
    return srv


def prune(srv):
    """Committed blobs are deleted from disk after each push (nothing reads them), so the runs fit on the disk."""
    for path in glob.glob(os.path.join(srv.data, "**"), recursive=True):
        if os.path.isfile(path) and os.path.getsize(path) > 64 * MIB and f"{os.sep}uploads{os.sep}" not in path:
            os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-dll", required=True, help="the build before (e.g. a copy of main's bin/Release)")
    ap.add_argument("--wharf-dll", required=True, help="the build after")
    ap.add_argument("--mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    size, chunk = args.mib * MIB, 16 * MIB
    work = tempfile.mkdtemp(prefix="wharf-pushes-bench-")
    servers = []
    try:
        for name, dll, sealed in (("base sealed", args.base_dll, True), ("new sealed", args.wharf_dll, True),
                                  ("base plain", args.base_dll, False), ("new plain", args.wharf_dll, False)):
            servers.append(start(name, dll, sealed, work))
        seed = iter(range(1000, 10**6))

        def push(srv, kind, s, digest):
            before = b.cpu_seconds(srv.pid)
            rate = (enc.push_monolithic(srv, "bench/mono", s, digest, size) if kind == "monolithic"
                    else enc.push_chunked(srv, "bench/chunked", s, digest, size, chunk))
            cpu = (b.cpu_seconds(srv.pid) - before) / (size / 1e9)
            prune(srv)
            return rate, cpu

        for _ in range(args.warmup):
            for kind in KINDS:
                s = next(seed); d = enc.digest_of(s, size)
                for srv in servers:
                    push(srv, kind, s, d)
        rate = {(srv.name, k): [] for srv in servers for k in KINDS}
        cpu = {(srv.name, k): [] for srv in servers for k in KINDS}
        for i in range(args.rounds):
            for kind in KINDS:
                s = next(seed); d = enc.digest_of(s, size)
                for srv in (servers if i % 2 == 0 else servers[::-1]):
                    r, c = push(srv, kind, s, d)
                    rate[(srv.name, kind)].append(r); cpu[(srv.name, kind)].append(c)
            print(f"round {i + 1}/{args.rounds}", file=sys.stderr, flush=True)

        med = statistics.median
        print(f"Blobs of {args.mib} MiB (16 MiB PATCHes for chunked); {args.warmup} warm-up pushes of each kind per server, "
              f"then {args.rounds} paired rounds, the four servers in alternating order; medians.\n")
        print("| server | push monolithic (MB/s) | push chunked (MB/s) | CPU per GB, monolithic (s) | CPU per GB, chunked (s) |")
        print("|---|---:|---:|---:|---:|")
        for srv in servers:
            n = srv.name
            print(f"| {n} | {med(rate[(n, 'monolithic')]):,.0f} | {med(rate[(n, 'chunked')]):,.0f} | "
                  f"{med(cpu[(n, 'monolithic')]):.2f} | {med(cpu[(n, 'chunked')]):.2f} |")
        print("\n| ratio (median of the pairs) | monolithic MB/s | chunked MB/s | monolithic CPU/GB | chunked CPU/GB |")
        print("|---|---:|---:|---:|---:|")
        for a, z in (("new plain", "base plain"), ("new sealed", "base sealed"), ("base sealed", "base plain"), ("new sealed", "new plain")):
            cells = [med(x / y for x, y in zip(m[(a, k)], m[(z, k)])) for m in (rate, cpu) for k in KINDS]
            print(f"| {a} ÷ {z} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
