#!/usr/bin/env python3
"""The cost of metrics, side by side: Wharf with metrics on (the default, plus a scraper on /metrics every second)
against Wharf with Telemetry:Metrics:Enabled=false, on the small-request rows of bench/run (manifest GET by tag
with wrk, blob HEAD with ab), both servers running and warm, in paired bursts back to back so drift on a busy machine hits both alike. Driven by
bench/metrics/run; standard library only; reuses bench/bench.py's client code."""
import argparse, os, shutil, sys, tempfile, threading, time, http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402


def scraper(port, stop, counts):
    """GET /metrics once a second, as a Prometheus server would, until stopped."""
    while not stop.wait(1.0):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/metrics"); r = c.getresponse(); body = r.read(); c.close()
            if r.status != 200 or b"wharf_requests_total" not in body:
                sys.exit(f"/metrics answered {r.status}")
            counts[0] += 1
        except OSError:
            pass


def start(args, work, metrics_on):
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
    env = dict(os.environ, Logging__LogLevel__Default="Warning", WHARF__Telemetry__Metrics__Enabled=str(metrics_on).lower(), **limits)
    data = os.path.join(work, "on" if metrics_on else "off")
    port = b.free_port()
    srv = b.Server("Wharf metrics " + ("on" if metrics_on else "off"),
                   ["dotnet", args.wharf_dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"], port, env)
    srv.layer = b.push_small_image(srv, "bench/app", ["latest"])
    return srv



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--warmup", type=int, default=30, help="load per row per server before measuring (default 30 s)")
    ap.add_argument("--seconds", type=int, default=4, help="one burst of load (default 4 s)")
    ap.add_argument("--rounds", type=int, default=8, help="paired bursts per row; medians are reported (default 8)")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-metrics-bench-")
    servers, stop, scrapes = [], threading.Event(), [0]
    try:
        on = start(args, work, True)
        servers.append(on)
        off = start(args, work, False)
        servers.append(off)
        # The scraper runs throughout, as a Prometheus server would; a scrape every second is part of what metrics cost.
        t = threading.Thread(target=scraper, args=(on.port, stop, scrapes), daemon=True)
        t.start()
        # Warm both up until tiered compilation has settled (on 2 cores it takes tens of seconds of load: the
        # request path, then the scrape path, are recompiled with profile data); then paired bursts, whose ratios'
        # median is the figure.
        b.warm_pair(on, off, b.small_burst, args.warmup)
        rows = b.paired_rows(on, off, b.small_burst, args.rounds, args.seconds)
        stop.set()
        t.join()
        if scrapes[0] < args.rounds * args.seconds:
            sys.exit(f"only {scrapes[0]} scrapes during the run")
        lines = [f"Both servers warm ({args.warmup} s of load per row each), then {args.rounds} pairs of {args.seconds}-s bursts "
                 "per row, on and off back to back; medians, and the median of the pairs' ratios. Metrics on = the default "
                 "settings with a scraper on /metrics every second; off = Telemetry:Metrics:Enabled=false.", "",
                 "| row | metrics on | metrics off | on ÷ off (median of pairs) | target | |", "|---|---:|---:|---:|---|---|"]
        for key, a, z, ratio in rows:
            if key.endswith("(rps)"):
                target, verdict = "≥ 0.95", "PASS" if ratio >= 0.95 else "MISS"
            else:
                target, verdict = "", ""
            lines.append(f"| {key} | {a:,.1f} | {z:,.1f} | {ratio:.3f} | {target} | {verdict} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        stop.set()
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
