#!/usr/bin/env python3
"""Wharf vs CNCF Distribution, side by side. Driven by bench/run; standard library only.

Every figure is measured in the same run, against both servers, with the same client code, so the
ratios mean something even on a noisy 2-core machine."""
import argparse, hashlib, http.client, json, os, re, shutil, socket, statistics, struct, subprocess
import sys, tempfile, threading, time

MIB = 1 << 20
BIG = 512 * MIB
CHUNK = 16 * MIB
BUF = 1 * MIB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
RUNS = 3  # pushes, pulls and cold starts: the median of this many
BASE = os.urandom(BUF)  # every generated MiB is this block stamped with (blob seed, MiB index)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, name, argv, port, env=None):
        self.name, self.port = name, port
        start = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/v2/"); r = c.getresponse(); r.read(); c.close()
                if r.status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"{name} exited during start")
            if time.perf_counter() - start > 60:
                sys.exit(f"{name} did not start")
            time.sleep(0.002)
        self.cold_start_ms = (time.perf_counter() - start) * 1000

    @property
    def pid(self):
        return self.proc.pid

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def stop(self):
        self.proc.kill(); self.proc.wait()


def request(c, method, path, body=None, headers=None, expect=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    if expect and r.status not in expect:
        sys.exit(f"{method} {path} -> {r.status} {data[:300]!r}")
    return r, data


def push_small_image(srv, repo, tags):
    c = srv.conn()
    layer = os.urandom(4096); config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in (layer, config):
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        loc = start_upload(c, repo)
        request(c, "PUT", f"{loc}{'&' if '?' in loc else '?'}digest={d}", blob, {"Content-Type": "application/octet-stream"}, (201,))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
    for t in tags:
        request(c, "PUT", f"/v2/{repo}/manifests/{t}", manifest, {"Content-Type": OCI_MANIFEST}, (201,))
    c.close()
    return "sha256:" + hashlib.sha256(layer).hexdigest()


def wrk(srv, path, method="GET", headers=(), seconds=10):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.method = "{method}"\n'); script.close()
    argv = ["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", script.name]
    for h in headers:
        argv += ["-H", h]
    before = cpu_seconds(srv.pid)
    out = subprocess.run(argv + [f"http://127.0.0.1:{srv.port}{path}"], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(srv.pid) - before
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"{srv.name} {method} {path}: {non2xx.group(1)} error responses")
    return rps, cpu / max(total, 1) * 1e6  # µs CPU per request


def ab_head(srv, path, seconds=10):
    """wrk's parser waits for a body after HEAD, so HEAD load comes from ab (-i, keep-alive): two
    processes of 32 connections each, as wrk's 2 threads and 64 connections."""
    argv = ["ab", "-q", "-i", "-k", "-c", "32", "-t", str(seconds), "-n", "10000000", f"http://127.0.0.1:{srv.port}{path}"]
    before = cpu_seconds(srv.pid)
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate()[0] for p in procs]
    cpu = cpu_seconds(srv.pid) - before
    rps = total = 0
    for p, out in zip(procs, outs):
        failed = re.search(r"Failed requests:\s+(\d+)", out)
        non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
        if p.returncode or not failed or int(failed.group(1)) or non2xx:
            sys.exit(f"{srv.name} HEAD {path}: failures\n{out}")
        rps += float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
        total += int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    return rps, cpu / max(total, 1) * 1e6


def blob_chunks(seed, offset=0, length=BIG):
    """Blob `seed` (BIG bytes, incompressible) generated MiB by MiB: nothing large is held in memory,
    and every seed is a different blob, so no push is ever deduplicated against an earlier one."""
    end = offset + length
    while offset < end:
        i, within = divmod(offset, BUF)
        n = min(BUF - within, end - offset)
        block = struct.pack("<QQ", seed, i) + BASE[16:]
        yield block if n == BUF else block[within:within + n]
        offset += n


def blob_digest(seed):
    h = hashlib.sha256()
    for b in blob_chunks(seed):
        h.update(b)
    return "sha256:" + h.hexdigest()


def start_upload(c, repo):
    r, _ = request(c, "POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}, (202,))
    return re.sub(r"^https?://[^/]+", "", r.getheader("Location"))


def push_monolithic(srv, repo, seed, digest):
    """The spec's monolithic POST-then-PUT (Distribution 2.8 has no single-POST upload)."""
    c = srv.conn(); size = BIG
    start = time.perf_counter()
    loc = start_upload(c, repo)
    c.putrequest("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}")
    c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(size)); c.endheaders()
    for b in blob_chunks(seed):
        c.send(b)
    r = c.getresponse(); r.read()
    elapsed = time.perf_counter() - start
    if r.status != 201:
        sys.exit(f"{srv.name} monolithic push -> {r.status}")
    c.close()
    return size / elapsed / 1e6


def push_chunked(srv, repo, seed, digest):
    c = srv.conn(); size = BIG
    start = time.perf_counter()
    loc = start_upload(c, repo)
    for off in range(0, size, CHUNK):
        n = min(CHUNK, size - off)
        path_only = re.sub(r"^https?://[^/]+", "", loc)
        c.putrequest("PATCH", path_only)
        c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(n))
        c.putheader("Content-Range", f"{off}-{off + n - 1}"); c.endheaders()
        for b in blob_chunks(seed, off, n):
            c.send(b)
        r = c.getresponse(); r.read()
        if r.status != 202:
            sys.exit(f"{srv.name} PATCH -> {r.status}")
        loc = r.getheader("Location")
    path_only = re.sub(r"^https?://[^/]+", "", loc)
    sep = "&" if "?" in path_only else "?"
    request(c, "PUT", f"{path_only}{sep}digest={digest}", b"", {"Content-Length": "0"}, (201,))
    elapsed = time.perf_counter() - start
    c.close()
    return size / elapsed / 1e6


def push_streamed(srv, repo, seed, digest):
    """The shape docker pushes a layer in (compressing as it goes): POST, one PATCH whose body is streamed with
    Transfer-Encoding: chunked (its length unknown up front), then PUT ?digest= with no body."""
    c = srv.conn(); size = BIG
    start = time.perf_counter()
    loc = start_upload(c, repo)
    c.putrequest("PATCH", loc)
    c.putheader("Content-Type", "application/octet-stream"); c.putheader("Transfer-Encoding", "chunked"); c.endheaders()
    for b in blob_chunks(seed):
        c.send(b"%x\r\n" % len(b)); c.send(b); c.send(b"\r\n")
    c.send(b"0\r\n\r\n")
    r = c.getresponse(); r.read()
    if r.status != 202:
        sys.exit(f"{srv.name} streamed PATCH -> {r.status}")
    loc = re.sub(r"^https?://[^/]+", "", r.getheader("Location"))
    request(c, "PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}", b"", {"Content-Length": "0"}, (201,))
    elapsed = time.perf_counter() - start
    c.close()
    return size / elapsed / 1e6


def read_response(s, name):
    """Reads a Connection: close response to its end with socket.recv_into into one reused buffer;
    returns (status, headers as a lower-case dict, body bytes received) and closes the socket."""
    buf = bytearray(BUF); view = memoryview(buf); head = b""
    while b"\r\n\r\n" not in head:
        n = s.recv_into(view)
        if not n:
            sys.exit(f"{name}: connection closed before the headers")
        head += bytes(view[:n])
    header, _, rest = head.partition(b"\r\n\r\n")
    status_line, *fields = header.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    got = len(rest)
    while True:
        n = s.recv_into(view)
        if not n:
            break
        got += n
    s.close()
    return int(status_line.split(" ", 2)[1]), headers, got


def pull(srv, repo, digest, size, streams):
    """GETs the blob (8 streams: 8 concurrent Range GETs) and reads the body with the same
    socket.recv_into loop the raw-loopback ceiling uses, so the two are measured alike."""
    part = size // streams
    def one(i):
        lo = i * part; hi = size - 1 if i == streams - 1 else lo + part - 1
        s = socket.create_connection(("127.0.0.1", srv.port))
        extra = f"Range: bytes={lo}-{hi}\r\n" if streams > 1 else ""
        s.sendall(f"GET /v2/{repo}/blobs/{digest} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode())
        status, _, got = read_response(s, srv.name)
        if status not in (200, 206):
            sys.exit(f"{srv.name} pull -> {status}")
        assert got == hi - lo + 1, (got, hi - lo + 1)
    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    [t.start() for t in threads]; [t.join() for t in threads]
    return size / (time.perf_counter() - start) / 1e6


def raw_loopback(size, streams):
    """The same client reading from a trivial socket server that writes from memory: the ceiling."""
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16); port = srv.getsockname()[1]
    payload = os.urandom(BUF)
    def serve():
        for _ in range(streams):
            conn, _ = srv.accept()
            def send(conn=conn):
                left = size // streams
                while left > 0:
                    n = min(BUF, left); conn.sendall(payload[:n]); left -= n
                conn.close()
            threading.Thread(target=send).start()
    threading.Thread(target=serve, daemon=True).start()
    def recv():
        s = socket.create_connection(("127.0.0.1", port)); buf = bytearray(BUF); view = memoryview(buf)
        while s.recv_into(view):
            pass
        s.close()
    start = time.perf_counter()
    threads = [threading.Thread(target=recv) for _ in range(streams)]
    [t.start() for t in threads]; [t.join() for t in threads]
    srv.close()
    return size / (time.perf_counter() - start) / 1e6


def disk_write(directory, seed):
    """The push ceiling: the same generated 512 MiB written to a file in the servers' filesystem,
    then fsync'd, as both servers must before a blob exists."""
    path = os.path.join(directory, f"disk-{seed}.bin")
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for b in blob_chunks(seed):
            os.write(fd, b)
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - start
    os.unlink(path)
    return BIG / elapsed / 1e6


def tags_list_ms(srv, repo, runs=50):
    c = srv.conn(); times = []
    for _ in range(runs + 5):
        t = time.perf_counter(); r, body = request(c, "GET", f"/v2/{repo}/tags/list?n=1000", expect=(200,)); times.append((time.perf_counter() - t) * 1000)
    assert len(json.loads(body)["tags"]) == 1000
    c.close()
    return statistics.median(times[5:])


def start(spawn, work, name):
    """Starts the server RUNS times, each on an empty data directory; keeps the last one running and
    records the median cold start (spawn to first 200 on /v2/)."""
    times = []
    for i in range(RUNS):
        srv = spawn(os.path.join(work, f"{name}-{i}"))
        times.append(srv.cold_start_ms)
        if i < RUNS - 1:
            srv.stop()
    srv.cold_start_ms = statistics.median(times)
    return srv


def measure(srv, digests, results):
    m = results[srv.name] = {"cold start to first 200 (ms)": srv.cold_start_ms}
    layer = push_small_image(srv, "bench/app", ["latest"])
    push_small_image(srv, "bench/tags", [f"t{i:04d}" for i in range(1000)])
    time.sleep(1)
    m["RSS idle (MiB)"] = rss_kib(srv.pid) / 1024
    m["GET /v2/ (rps)"], m["CPU per /v2/ request (µs)"] = wrk(srv, "/v2/")
    m["manifest GET by tag (rps)"], m["CPU per manifest GET (µs)"] = wrk(srv, "/v2/bench/app/manifests/latest", headers=[f"Accept: {OCI_MANIFEST}"])
    m["blob HEAD (rps)"], m["CPU per blob HEAD (µs)"] = ab_head(srv, f"/v2/bench/app/blobs/{layer}")
    m["tags/list 1,000 tags (ms)"] = tags_list_ms(srv, "bench/tags")

    # Every push is a blob this server has not seen (seed 1..RUNS monolithic, RUNS+1..2*RUNS chunked).
    peak = [0]; stop = threading.Event()
    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(srv.pid)); time.sleep(0.01)
    t = threading.Thread(target=sample); t.start()
    cpu0 = cpu_seconds(srv.pid)
    m["push 512 MiB monolithic (MB/s)"] = statistics.median(
        push_monolithic(srv, "bench/big", seed, digests[seed]) for seed in range(1, RUNS + 1))
    m["push CPU per GB (s)"] = (cpu_seconds(srv.pid) - cpu0) / (RUNS * BIG / 1e9)
    stop.set(); t.join()
    m["RSS peak during 512 MiB push (MiB)"] = peak[0] / 1024
    m["push 512 MiB chunked (MB/s)"] = statistics.median(
        push_chunked(srv, "bench/big2", seed, digests[seed]) for seed in range(RUNS + 1, 2 * RUNS + 1))
    m["pull 512 MiB, 1 stream (MB/s)"] = statistics.median(pull(srv, "bench/big", digests[1], BIG, 1) for _ in range(RUNS))
    m["pull 512 MiB, 8 ranged streams (MB/s)"] = statistics.median(pull(srv, "bench/big", digests[1], BIG, 8) for _ in range(RUNS))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-bench-")
    try:
        digests = {seed: blob_digest(seed) for seed in range(1, 2 * RUNS + 1)}
        results = {}
        raw1 = statistics.median(raw_loopback(BIG, 1) for _ in range(RUNS))
        raw8 = statistics.median(raw_loopback(BIG, 8) for _ in range(RUNS))
        disk = statistics.median(disk_write(work, 100 + i) for i in range(RUNS))

        def distribution(data):
            port = free_port(); os.makedirs(data)
            cfg = data + ".yml"
            with open(cfg, "w") as f:
                f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
            return Server("Distribution", ["docker-registry", "serve", cfg], port)
        dist = start(distribution, work, "distribution")
        try:
            measure(dist, digests, results)
        finally:
            dist.stop()

        # The per-caller rate limits stay on, so their cost is measured, but above this one client's load
        # (every request comes from 127.0.0.1): Distribution has no such limits.
        limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
        env = dict(os.environ, Logging__LogLevel__Default="Warning", **limits)
        def wharf_server(data):
            port = free_port()
            # Open mode: Distribution runs without authentication too, so both are measured alike.
            return Server("Wharf", ["dotnet", args.wharf_dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"], port, env)
        wharf = start(wharf_server, work, "wharf")
        try:
            measure(wharf, digests, results)
        finally:
            wharf.stop()

        w, d = results["Wharf"], results["Distribution"]
        targets = {
            "GET /v2/ (rps)": ("≥ 10× Distribution", lambda: w["GET /v2/ (rps)"] >= 10 * d["GET /v2/ (rps)"]),
            "manifest GET by tag (rps)": ("≥ 10× Distribution", lambda: w["manifest GET by tag (rps)"] >= 10 * d["manifest GET by tag (rps)"]),
            "blob HEAD (rps)": ("≥ 10× Distribution", lambda: w["blob HEAD (rps)"] >= 10 * d["blob HEAD (rps)"]),
            "push 512 MiB monolithic (MB/s)": ("≥ 2× Distribution", lambda: w["push 512 MiB monolithic (MB/s)"] >= 2 * d["push 512 MiB monolithic (MB/s)"]),
            "push 512 MiB chunked (MB/s)": ("≥ 3× Distribution", lambda: w["push 512 MiB chunked (MB/s)"] >= 3 * d["push 512 MiB chunked (MB/s)"]),
            "pull 512 MiB, 1 stream (MB/s)": (f"≥ 90% of raw loopback ({raw1:.0f} MB/s)", lambda: w["pull 512 MiB, 1 stream (MB/s)"] >= 0.9 * raw1),
            "pull 512 MiB, 8 ranged streams (MB/s)": (f"≥ 90% of raw loopback ({raw8:.0f} MB/s)", lambda: w["pull 512 MiB, 8 ranged streams (MB/s)"] >= 0.9 * raw8),
            "tags/list 1,000 tags (ms)": ("≤ 1 ms", lambda: w["tags/list 1,000 tags (ms)"] <= 1.0),
            "RSS peak during 512 MiB push (MiB)": ("≤ idle + 64 MiB", lambda: w["RSS peak during 512 MiB push (MiB)"] <= w["RSS idle (MiB)"] + 64),
            "cold start to first 200 (ms)": ("≤ 300 ms", lambda: w["cold start to first 200 (ms)"] <= 300),
        }
        lines = [f"Raw loopback, same client: {raw1:.0f} MB/s (1 stream), {raw8:.0f} MB/s (8 streams). "
                 f"Disk, 512 MiB written then fsync'd in the servers' filesystem: {disk:.0f} MB/s (the ceiling of any durable push).", "",
                 "| metric | Wharf | Distribution 2.8.2 | Wharf ÷ Distribution | target | |", "|---|---:|---:|---:|---|---|"]
        for key in w:
            ratio = w[key] / d[key] if d[key] else float("inf")
            target, ok = targets.get(key, ("", None))
            verdict = "" if ok is None else ("PASS" if ok() else "MISS")
            lines.append(f"| {key} | {w[key]:,.1f} | {d[key]:,.1f} | {ratio:.2f} | {target} | {verdict} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
