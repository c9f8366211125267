#!/usr/bin/env python3
"""The cost of metrics, side by side: Wharf with metrics on (the default, plus a scraper on /metrics every second)
against Wharf with Telemetry:Metrics:Enabled=false, on the small-request rows of bench/run (manifest GET by tag
with wrk, blob HEAD with ab), in alternating rounds so drift on a busy machine hits both alike. Driven by
bench/metrics/run; standard library only; reuses bench/bench.py's client code."""
import argparse, os, shutil, statistics, sys, tempfile, threading, time, http.client

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


def round_of(args, work, metrics_on, index):
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
    env = dict(os.environ, Logging__LogLevel__Default="Warning", WHARF__Telemetry__Metrics__Enabled=str(metrics_on).lower(), **limits)
    data = os.path.join(work, f"{'on' if metrics_on else 'off'}-{index}")
    port = b.free_port()
    srv = b.Server("Wharf metrics " + ("on" if metrics_on else "off"),
                   ["dotnet", args.wharf_dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"], port, env)
    stop, scrapes = threading.Event(), [0]
    try:
        layer = b.push_small_image(srv, "bench/app", ["latest"])
        # Warm up (JIT, connection pools) before measuring, with the scraper already running: its first scrapes run the
        # exporter's code for the first time (JIT, tiering on a 2-core machine), a one-off cost of a fresh process that
        # would otherwise land on whichever row is measured first.
        t = threading.Thread(target=scraper, args=(port, stop, scrapes), daemon=True)
        if metrics_on:
            t.start()
        b.wrk(srv, "/v2/bench/app/manifests/latest", headers=[f"Accept: {b.OCI_MANIFEST}"], seconds=5)
        b.ab_head(srv, f"/v2/bench/app/blobs/{layer}", seconds=2)
        manifest, manifest_cpu = b.wrk(srv, "/v2/bench/app/manifests/latest", headers=[f"Accept: {b.OCI_MANIFEST}"], seconds=args.seconds)
        head, head_cpu = b.ab_head(srv, f"/v2/bench/app/blobs/{layer}", seconds=args.seconds)
        stop.set()
        if metrics_on:
            t.join()
            if scrapes[0] < args.seconds:
                sys.exit(f"only {scrapes[0]} scrapes during {2 * args.seconds} s of load")
        return {"manifest GET by tag (rps)": manifest, "CPU per manifest GET (µs)": manifest_cpu,
                "blob HEAD (rps)": head, "CPU per blob HEAD (µs)": head_cpu}
    finally:
        stop.set()
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--seconds", type=int, default=10, help="load per row per round (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating on/off rounds; medians are reported (default 3)")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-metrics-bench-")
    try:
        on, off = [], []
        for i in range(args.rounds):
            # Alternate which goes first, so neither always runs on the warmer machine.
            for metrics_on in ((True, False) if i % 2 == 0 else (False, True)):
                (on if metrics_on else off).append(round_of(args, work, metrics_on, i))
        lines = [f"{args.rounds} alternating rounds of {args.seconds} s per row; medians. Metrics on = the default "
                 "settings with a scraper on /metrics every second; off = Telemetry:Metrics:Enabled=false.", "",
                 "| row | metrics on | metrics off | on ÷ off | target | |", "|---|---:|---:|---:|---|---|"]
        for key in on[0]:
            a, z = statistics.median(r[key] for r in on), statistics.median(r[key] for r in off)
            ratio = a / z if z else float("inf")
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
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
