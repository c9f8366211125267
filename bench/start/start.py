#!/usr/bin/env python3
"""Wharf's start and memory (issue 19, target 4). Driven by bench/start/run; standard library only.

For each variant (the build output, and optionally a ReadyToRun publish or extra runtime settings):
  * cold start, exec -> first 200 on GET /v2/ (polled every 2 ms), median of N starts,
    on an empty data directory and on an existing one (a data directory started once before);
  * RSS idle (VmRSS after a small image is pushed and the server has sat for 1 s), and again after
    1,000 tag PUTs (what bench/run's setup does before its "RSS idle, after setup");
  * RSS peak (VmRSS sampled every 10 ms) during a 1 GiB monolithic push of generated data
    (nothing large is held in memory: the body is generated MiB by MiB as it is sent);
  * optionally (--cpu) server CPU per manifest GET by tag under wrk load, to show what a setting
    costs on small requests.
A floor reference (--floor): an empty `dotnet new web` app (one GET / endpoint), cold start and RSS."""
import argparse, hashlib, http.client, json, os, re, shutil, statistics, struct, subprocess
import sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402

MIB = 1 << 20
PUSH = 1024 * MIB
TAGS = 1000
BUF = MIB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BASE = os.urandom(BUF)


free_port, cpu_seconds = b.free_port, b.cpu_seconds


def rss_kib(pid):
    """bench.rss_kib, but 0 once the process is gone (sampled while a push may end it)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """Spawns argv and polls GET `path` every 2 ms until it answers 200: the cold start."""
    def __init__(self, argv, port, env, path="/v2/", log=None):
        self.port = port
        out = open(log, "ab") if log else subprocess.DEVNULL
        start = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=out, stderr=out, env=env)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", path); r = c.getresponse(); r.read(); c.close()
                if r.status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"{argv} exited during start (rc {self.proc.returncode})")
            if time.perf_counter() - start > 60:
                self.stop(); sys.exit(f"{argv} did not start")
            time.sleep(0.002)
        self.cold_start_ms = (time.perf_counter() - start) * 1000
        # The CPU the process spent to get there (all threads): on a busy machine the wall time above
        # measures the queue for the cores as much as the server; this does not.
        self.cold_start_cpu_ms = cpu_seconds(self.proc.pid) * 1000

    @property
    def pid(self):
        return self.proc.pid

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)

    def stop(self):
        # A graceful stop (SIGTERM), so the next start on the same data directory finds it as an
        # operator's restart would; SIGKILL after 30 s.
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill(); self.proc.wait()


class Failed(Exception):
    """A request answered with an unexpected status: fatal, except for a variant that may fail (--aot)."""


def request(c, method, path, body=None, headers=None, expect=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    if expect and r.status not in expect:
        raise Failed(f"{method} {path} -> {r.status} {data[:300]!r}")
    return r, data


def start_upload(c, repo):
    r, _ = request(c, "POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}, (202,))
    return re.sub(r"^https?://[^/]+", "", r.getheader("Location"))


def push_small_image(srv, repo):
    c = srv.conn()
    layer = os.urandom(4096); config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in (layer, config):
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        loc = start_upload(c, repo)
        request(c, "PUT", f"{loc}{'&' if '?' in loc else '?'}digest={d}", blob, {"Content-Type": "application/octet-stream"}, (201,))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
    request(c, "PUT", f"/v2/{repo}/manifests/latest", manifest, {"Content-Type": OCI_MANIFEST}, (201,))
    c.close()


def put_tags(srv, repo, count):
    """`count` tag PUTs of the image push_small_image left under `repo` (as bench/run's setup does):
    the allocation that grows a workstation GC's gen-0 budget before the first collection."""
    c = srv.conn()
    _, manifest = request(c, "GET", f"/v2/{repo}/manifests/latest", headers={"Accept": OCI_MANIFEST}, expect=(200,))
    for i in range(count):
        request(c, "PUT", f"/v2/{repo}/manifests/t{i}", manifest, {"Content-Type": OCI_MANIFEST}, (201,))
    c.close()


def blob_chunks(seed, length=PUSH):
    """Blob `seed` generated MiB by MiB (each MiB a fixed random block stamped with (seed, index)):
    incompressible, never held whole in memory, and a blob the server has not seen."""
    for i in range(length // BUF):
        yield struct.pack("<QQ", seed, i) + BASE[16:]


def blob_digest(seed):
    h = hashlib.sha256()
    for b in blob_chunks(seed):
        h.update(b)
    return "sha256:" + h.hexdigest()


def push_monolithic(srv, repo, seed, digest):
    c = srv.conn()
    loc = start_upload(c, repo)
    c.putrequest("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}")
    c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(PUSH)); c.endheaders()
    for b in blob_chunks(seed):
        c.send(b)
    r = c.getresponse(); r.read(); c.close()
    if r.status != 201:
        raise Failed(f"monolithic push -> {r.status}")


def cpu_per_manifest_get(srv, seconds):
    if not shutil.which("wrk"):
        return None
    before = cpu_seconds(srv.pid)
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "-H", f"Accept: {OCI_MANIFEST}",
                          f"http://127.0.0.1:{srv.port}/v2/bench/app/manifests/latest"], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(srv.pid) - before
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        sys.exit("manifest GET: error responses\n" + out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return cpu / max(total, 1) * 1e6, rps


def wharf_argv(variant, data, port):
    return variant["cmd"] + ["serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"]


def measure_wharf(variant, work, runs, seed, digest, cpu_seconds_load, log):
    env = dict(b.wharf_env(), **variant.get("env", {}))  # bench.py's: rate limits above this one client's load
    name = variant["name"]
    m = {}
    # Empty data directory: a fresh one per start.
    times, cpu = [], []
    for i in range(runs):
        port = free_port()
        srv = Server(wharf_argv(variant, os.path.join(work, f"{name}-empty-{i}"), port), port, env, log=log)
        times.append(srv.cold_start_ms); cpu.append(srv.cold_start_cpu_ms); srv.stop()
    m["empty"], m["empty_cpu"] = times, cpu
    # Existing data directory: started (and an image pushed) once before, then restarted runs times.
    data = os.path.join(work, f"{name}-existing")
    port = free_port()
    srv = Server(wharf_argv(variant, data, port), port, env, log=log)
    try:
        push_small_image(srv, "bench/app")
    except Failed as e:
        if not variant.get("may_fail"):
            raise
        m["failed"] = str(e)  # the existing data directory has no image: the starts below still count
    srv.stop()
    times, cpu = [], []
    for i in range(runs):
        port = free_port()
        srv = Server(wharf_argv(variant, data, port), port, env, log=log)
        times.append(srv.cold_start_ms); cpu.append(srv.cold_start_cpu_ms)
        if i < runs - 1:
            srv.stop()
    m["existing"], m["existing_cpu"] = times, cpu
    # The last start stays up: memory, then (optionally) small-request CPU.
    try:
        time.sleep(1)
        m["rss_start"] = rss_kib(srv.pid) / 1024
        if "failed" in m:
            return m
        push_small_image(srv, "bench/app")
        time.sleep(1)
        m["rss_idle"] = rss_kib(srv.pid) / 1024
        cpu0 = cpu_seconds(srv.pid)
        put_tags(srv, "bench/app", TAGS)
        m["put_cpu_us"] = (cpu_seconds(srv.pid) - cpu0) / TAGS * 1e6
        time.sleep(1)
        m["rss_tags"] = rss_kib(srv.pid) / 1024
        peak = [0]; stop = threading.Event()
        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(srv.pid)); time.sleep(0.01)
        t = threading.Thread(target=sample); t.start()
        t0 = time.perf_counter(); cpu0 = cpu_seconds(srv.pid)
        push_monolithic(srv, "bench/big", seed, digest)
        m["push_mbs"] = PUSH / (time.perf_counter() - t0) / 1e6
        m["push_cpu_s_gb"] = (cpu_seconds(srv.pid) - cpu0) / (PUSH / 1e9)
        stop.set(); t.join()
        m["rss_peak"] = peak[0] / 1024
        time.sleep(1)
        m["rss_after"] = rss_kib(srv.pid) / 1024
        if cpu_seconds_load:
            r = cpu_per_manifest_get(srv, cpu_seconds_load)
            if r:
                m["cpu_us"], m["rps"] = r
    finally:
        srv.stop()
    return m


def build_floor(work):
    """An empty `dotnet new web` app (its one endpoint, GET / -> "Hello World!"), Release build."""
    d = os.path.join(work, "floor")
    subprocess.run(["dotnet", "new", "web", "-o", d, "-n", "Floor", "--no-restore"], check=True, capture_output=True)
    subprocess.run(["dotnet", "build", d, "-c", "Release", "-nologo", "-clp:ErrorsOnly", "-o", os.path.join(d, "out")], check=True, capture_output=True)
    return os.path.join(d, "out", "Floor.dll")


def measure_floor(dll, runs):
    times, cpu = [], []
    env = dict(os.environ, Logging__LogLevel__Default="Warning")
    for i in range(runs):
        port = free_port()
        srv = Server(["dotnet", dll, "--urls", f"http://127.0.0.1:{port}"], port, env, path="/")
        times.append(srv.cold_start_ms); cpu.append(srv.cold_start_cpu_ms)
        if i < runs - 1:
            srv.stop()
    try:
        c = srv.conn()
        for _ in range(10):
            request(c, "GET", "/", expect=(200,))
        time.sleep(1)
        rss = rss_kib(srv.pid) / 1024
    finally:
        srv.stop()
    return {"empty": times, "empty_cpu": cpu, "rss_idle": rss}


def fmt(v, spec=".1f"):
    return "" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True, help="the build output's wharf.dll")
    ap.add_argument("--published", help="a published wharf executable (e.g. a ReadyToRun publish) measured as a second variant")
    ap.add_argument("--aot", help="a Native AOT publish of wharf (bench/start/run --aot, which smoke-tests it first)")
    ap.add_argument("--dll", action="append", default=[], metavar="NAME=PATH", help="another build's wharf.dll as a variant (e.g. the commit before, for a paired before/after)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME:K=V[,K=V]",
                    help="an extra variant of the build output with these environment variables (e.g. gen0:DOTNET_GCgen0size=0x400000)")
    ap.add_argument("--runs", type=int, default=5, help="cold starts per figure (median)")
    ap.add_argument("--rounds", type=int, default=1, help="measure all variants this many times, alternating")
    ap.add_argument("--cpu", type=int, default=0, metavar="SECONDS", help="also wrk the manifest GET this long and report server CPU per request")
    ap.add_argument("--floor", action="store_true", help="also measure an empty `dotnet new web` app")
    ap.add_argument("--log", help="append the servers' output here")
    args = ap.parse_args()

    variants = [{"name": "build", "cmd": ["dotnet", args.wharf_dll]}]
    if args.published:
        variants.append({"name": "published", "cmd": [args.published]})
    if args.aot:
        variants.append({"name": "aot", "cmd": [args.aot]})
    for spec in args.dll:
        name, _, path = spec.partition("=")
        variants.append({"name": name, "cmd": ["dotnet", path]})
    for spec in args.env:
        name, _, kvs = spec.partition(":")
        variants.append({"name": name, "cmd": ["dotnet", args.wharf_dll],
                         "env": dict(kv.split("=", 1) for kv in kvs.split(","))})

    work = tempfile.mkdtemp(prefix="wharf-start-")
    try:
        digest = blob_digest(1)
        results = {v["name"]: [] for v in variants}
        for _ in range(args.rounds):
            for v in variants:
                results[v["name"]].append(measure_wharf(v, work, args.runs, 1, digest, args.cpu, args.log))
                shutil.rmtree(work); os.makedirs(work)
        floor = None
        if args.floor:
            floor = measure_floor(build_floor(work), args.runs)

        print(f"load average at the end: {os.getloadavg()[0]:.2f}; {args.runs} starts per figure, {args.rounds} round(s)\n")
        print("| variant | cold start, empty data dir (ms) | its CPU (ms) | cold start, existing data dir (ms) | its CPU (ms) | RSS after start (MiB) | RSS idle (MiB) | RSS after 1,000 PUTs (MiB) | RSS peak, 1 GiB push (MiB) | peak − RSS before it (MiB) | push (MB/s) | its CPU per GB (s) | CPU per tag PUT (µs) | CPU per manifest GET (µs) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for v in variants:
            for r in results[v["name"]]:
                print(f"| {v['name']} | {statistics.median(r['empty']):.0f} ({min(r['empty']):.0f}–{max(r['empty']):.0f}) | {statistics.median(r['empty_cpu']):.0f} "
                      f"| {statistics.median(r['existing']):.0f} ({min(r['existing']):.0f}–{max(r['existing']):.0f}) | {statistics.median(r['existing_cpu']):.0f} "
                      + (f"| {r['rss_start']:.1f} | failed: {r['failed'][:120]} | | | | | | | |" if "failed" in r else
                         f"| {r['rss_start']:.1f} | {r['rss_idle']:.1f} | {r['rss_tags']:.1f} | {r['rss_peak']:.1f} | {r['rss_peak'] - r['rss_tags']:.1f} | {r['push_mbs']:.0f} | {r['push_cpu_s_gb']:.2f} | {r['put_cpu_us']:.0f} | {fmt(r.get('cpu_us'))} |"))
        if floor:
            print(f"| floor: empty `dotnet new web` | {statistics.median(floor['empty']):.0f} ({min(floor['empty']):.0f}–{max(floor['empty']):.0f}) | {statistics.median(floor['empty_cpu']):.0f} | | | | {floor['rss_idle']:.1f} | | | | | | | |")
        best = {v["name"]: results[v["name"]] for v in variants}
        print("\n| target | " + " | ".join(best) + " |")
        print("|---|" + "---|" * len(best))
        def row(label, f):
            print(f"| {label} | " + " | ".join(f(rs) for rs in best.values()) + " |")
        med = lambda rs, k: statistics.median(statistics.median(r[k]) for r in rs)
        def mid(rs, k):
            vs = [r[k] for r in rs if k in r]
            return statistics.median(vs) if vs else float("nan")
        row("cold start, existing ≤ 150 ms", lambda rs: f"{med(rs, 'existing'):.0f} {'PASS' if med(rs, 'existing') <= 150 else 'MISS'}")
        row("cold start, empty ≤ 250 ms", lambda rs: f"{med(rs, 'empty'):.0f} {'PASS' if med(rs, 'empty') <= 250 else 'MISS'}")
        row("RSS after start ≤ 60 MiB", lambda rs: f"{mid(rs, 'rss_start'):.1f} {'PASS' if mid(rs, 'rss_start') <= 60 else 'MISS'}")
        row("RSS idle ≤ 60 MiB", lambda rs: f"{mid(rs, 'rss_idle'):.1f} {'PASS' if mid(rs, 'rss_idle') <= 60 else 'MISS'}")
        row("RSS after 1,000 PUTs ≤ 60 MiB", lambda rs: f"{mid(rs, 'rss_tags'):.1f} {'PASS' if mid(rs, 'rss_tags') <= 60 else 'MISS'}")
        # The push starts from the RSS after the PUTs: that is the idle it is measured against.
        def peak(rs):
            d = [r["rss_peak"] - r["rss_tags"] for r in rs if "rss_peak" in r]
            return f"+{statistics.median(d):.1f} {'PASS' if all(x <= 64 for x in d) else 'MISS'}" if d else "failed"
        row("peak during 1 GiB push ≤ idle + 64 MiB", peak)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
