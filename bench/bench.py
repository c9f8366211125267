#!/usr/bin/env python3
"""Wharf against the machine itself and against CNCF Distribution, side by side. Driven by bench/run;
standard library only.

Every figure is measured in the same run with the same client code: Wharf, Distribution 2.8.2 and the
physical references (nginx serving the same bytes with sendfile, raw loopback, openssl SHA-256, a dd
write with fsync), so the ratios mean something even on a noisy 2-core machine. Load runs take turns
between the servers (all of them are up at once), so drift on the machine falls on every one alike."""
import argparse, base64, datetime, hashlib, hmac, http.client, json, os, random, re, shutil, socket
import statistics, struct, subprocess, sys, tempfile, threading, time, urllib.parse

MIB = 1 << 20
BIG = 512 * MIB
HUGE = 1024 * MIB  # the push during which peak RSS is sampled
# RSS idle is sampled twice: 1 s after the setup, and this long after it, past Wharf's idle trim (IdleTrimAfter, default
# 10 s of no requests, checked every 2.5 s: one full compacting collection and malloc_trim), with 2.5 s of margin.
IDLE_TRIMMED_S = 15
CHUNK = 16 * MIB
BUF = 1 * MIB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "Wharf.Metadata.Postgres", "Migrations")
RUNS = 3  # pushes, pulls and cold starts: the median of this many
BASE = os.urandom(BUF)  # every generated MiB is this block stamped with (blob seed, MiB index)
GROUPS = ("small", "iam", "pulls", "pushes", "start", "concurrency", "postgres")
ACCOUNT, REGION = "123456789012", "us-east-1"
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def children_cpu_ms(pid):
    """utime+stime of a process's reaped children (cutime+cstime in /proc/PID/stat), in ms."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class AuthConnection(http.client.HTTPConnection):
    """http.client with the server's Authorization header (IAM mode: Basic AWS:<token>) on every request,
    as docker and podman send it after `docker login -u AWS`."""
    auth = None

    def putrequest(self, method, url, *args, **kwargs):
        super().putrequest(method, url, *args, **kwargs)
        if self.auth:
            self.putheader("Authorization", self.auth)


class Server:
    auth = None  # the Authorization header every request carries (IAM mode)
    prefix = ""  # before /v2/ in a blob's path (the floor's sendfile prototype answers under /zc/chunked)
    framing = 0  # bytes a pull may carry beyond the body (that prototype frames its body as one chunk)

    def __init__(self, name, argv, port, env=None, ready=(200,), log=None, timeout=60):
        self.name, self.port = name, port
        start = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL, env=env)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/v2/"); r = c.getresponse(); r.read(); c.close()
                if r.status in ready:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"{name} exited during start")
            if time.perf_counter() - start > timeout:
                sys.exit(f"{name} did not start")
            time.sleep(0.002)
        self.cold_start_ms = (time.perf_counter() - start) * 1000

    @property
    def pid(self):
        return self.proc.pid

    def cpu(self):
        return cpu_seconds(self.pid)

    def rss(self):
        return rss_kib(self.pid)

    def conn(self):
        c = AuthConnection("127.0.0.1", self.port, timeout=120); c.auth = self.auth
        return c

    def stop(self):
        self.proc.kill(); self.proc.wait()


def request(c, method, path, body=None, headers=None, expect=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    if expect and r.status not in expect:
        sys.exit(f"{method} {path} -> {r.status} {data[:300]!r}")
    return r, data


def small_image(seed=0):
    """A 4 KiB layer, a config and the OCI manifest naming them (the manifest is what nginx's small file
    is as large as)."""
    layer = random.Random(seed).randbytes(4096); config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
    return layer, config, manifest


def push_small_image(srv, repo, tags):
    c = srv.conn()
    layer, config, manifest = small_image()
    for blob in (layer, config):
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        loc = start_upload(c, repo)
        request(c, "PUT", f"{loc}{'&' if '?' in loc else '?'}digest={d}", blob, {"Content-Type": "application/octet-stream"}, (201,))
    for t in tags:
        request(c, "PUT", f"/v2/{repo}/manifests/{t}", manifest, {"Content-Type": OCI_MANIFEST}, (201,))
    c.close()
    return "sha256:" + hashlib.sha256(layer).hexdigest()


def parse_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(srv, path, method="GET", headers=(), seconds=10):
    """(rps, server CPU µs per request) of a wrk run of 64 connections: bench/metrics uses it."""
    res = load_wrk(srv, path, method, headers, seconds)
    return res["rps"], res["cpu_us"]


def ab_head(srv, path, seconds=10):
    res = load_ab(srv, path, seconds)
    return res["rps"], res["cpu_us"]


def load_wrk(srv, path, method="GET", headers=(), seconds=10, connections=64, fail=True):
    """wrk, 2 threads, a 10 s timeout. Returns rps, server CPU µs per request, p99 latency (ms) and errors
    (socket errors, timeouts included, and non-2xx answers); exits on a non-2xx answer unless fail is False."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.method = "{method}"\n'); script.close()
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", script.name]
    for h in list(headers) + ([f"Authorization: {srv.auth}"] if srv.auth else []):
        argv += ["-H", h]
    before = srv.cpu()
    out = subprocess.run(argv + [f"http://127.0.0.1:{srv.port}{path}"], capture_output=True, text=True, check=True).stdout
    cpu = srv.cpu() - before
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = parse_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    if non2xx and fail:
        sys.exit(f"{srv.name} {method} {path}: {errors} errors\n{out}")
    return {"rps": rps, "cpu_us": cpu / max(total, 1) * 1e6, "p99_ms": p99, "errors": errors}


def load_ab(srv, path, seconds=10):
    """wrk's parser waits for a body after HEAD, so HEAD load comes from ab (-i, keep-alive): two
    processes of 32 connections each, as wrk's 2 threads and 64 connections."""
    argv = ["ab", "-q", "-i", "-k", "-c", "32", "-t", str(seconds), "-n", "10000000"]
    if srv.auth:
        argv += ["-H", f"Authorization: {srv.auth}"]
    argv.append(f"http://127.0.0.1:{srv.port}{path}")
    before = srv.cpu()
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate()[0] for p in procs]
    cpu = srv.cpu() - before
    rps = total = 0
    for p, out in zip(procs, outs):
        failed = re.search(r"Failed requests:\s+(\d+)", out)
        non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
        if p.returncode or not failed or int(failed.group(1)) or non2xx:
            sys.exit(f"{srv.name} HEAD {path}: failures\n{out}")
        rps += float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
        total += int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    return {"rps": rps, "cpu_us": cpu / max(total, 1) * 1e6}


# The small-request rows that the paired benches (bench/metrics, bench/sqlite, bench/iam) compare two servers on:
# (row, its rate's label, its CPU's label).
SMALL_ROWS = (("manifest", "manifest GET by tag (rps)", "CPU per manifest GET (µs)"),
              ("head", "blob HEAD (rps)", "CPU per blob HEAD (µs)"))


def small_burst(srv, row, seconds):
    """One burst of a SMALL_ROWS row against a server with bench/app:latest pushed (srv.layer its layer): (rps, µs)."""
    if row == "manifest":
        return wrk(srv, "/v2/bench/app/manifests/latest", headers=[f"Accept: {OCI_MANIFEST}"], seconds=seconds)
    return ab_head(srv, f"/v2/bench/app/blobs/{srv.layer}", seconds=seconds)


def warm_pair(a, z, burst, warmup):
    """Load both servers on every row until tiered compilation has settled, alternating so both see the same machine."""
    for _ in range(2):
        for srv in (a, z):
            for row, _, _ in SMALL_ROWS:
                burst(srv, row, max(warmup // 2, 1))


def paired_rows(a, z, burst, rounds, seconds):
    """Paired bursts: a and z back to back on each row (the order alternating), so drift on the machine hits both
    alike. Returns (label, median for a, median for z, median of the pairs' a ÷ z) for each rate and CPU label."""
    results = {key: ([], []) for _, rps, cpu in SMALL_ROWS for key in (rps, cpu)}
    for i in range(rounds):
        for row, rps_key, cpu_key in SMALL_ROWS:
            for srv in ((a, z) if i % 2 == 0 else (z, a)):
                rps, cpu = burst(srv, row, seconds)
                side = 0 if srv is a else 1
                results[rps_key][side].append(rps)
                results[cpu_key][side].append(cpu)
    return [(key, statistics.median(a_list), statistics.median(z_list),
             statistics.median(x / y for x, y in zip(a_list, z_list) if y))
            for key, (a_list, z_list) in results.items()]


def blob_chunks(seed, offset=0, length=None):
    """Blob `seed` (incompressible) generated MiB by MiB: nothing large is held in memory, and every seed
    is a different blob, so no push is ever deduplicated against an earlier one. Its first `length`
    bytes are the blob of that size."""
    end = offset + (BIG if length is None else length)
    while offset < end:
        i, within = divmod(offset, BUF)
        n = min(BUF - within, end - offset)
        block = struct.pack("<QQ", seed, i) + BASE[16:]
        yield block if n == BUF else block[within:within + n]
        offset += n


def blob_digest(seed, size=None):
    h = hashlib.sha256()
    for b in blob_chunks(seed, 0, size):
        h.update(b)
    return "sha256:" + h.hexdigest()


def write_blob(path, seed, size=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        for b in blob_chunks(seed, 0, size):
            f.write(b)


def start_upload(c, repo):
    r, _ = request(c, "POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}, (202,))
    return re.sub(r"^https?://[^/]+", "", r.getheader("Location"))


def push_monolithic(srv, repo, seed, digest, size=None):
    """The spec's monolithic POST-then-PUT (Distribution 2.8 has no single-POST upload)."""
    c = srv.conn(); size = size or BIG
    start = time.perf_counter()
    loc = start_upload(c, repo)
    c.putrequest("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}")
    c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(size)); c.endheaders()
    for b in blob_chunks(seed, 0, size):
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


def read_response(s, name, bufsize=BUF, rate=None):
    """Reads a Connection: close response to its end with socket.recv_into into one reused buffer;
    returns (status, headers as a lower-case dict, body bytes received) and closes the socket. With `rate`
    (bytes per second), no faster than that, as a client behind a network link of that speed reads it (the
    server, back-pressured by TCP, sends no faster)."""
    start = time.perf_counter()
    buf = bytearray(bufsize); view = memoryview(buf); head = b""
    while b"\r\n\r\n" not in head:
        n = s.recv_into(view)
        if not n:
            raise OSError(f"{name}: connection closed before the headers")
        head += bytes(view[:n])
    header, _, rest = head.partition(b"\r\n\r\n")
    status_line, *fields = header.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    got = len(rest)
    while True:
        if rate:
            ahead = got / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
        n = s.recv_into(view)
        if not n:
            break
        got += n
    s.close()
    return int(status_line.split(" ", 2)[1]), headers, got


def get_request(srv, path, extra=""):
    auth = f"Authorization: {srv.auth}\r\n" if srv.auth else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}{extra}Connection: close\r\n\r\n".encode()


def pull(srv, repo, digest, size, streams):
    """GETs the blob (8 streams: 8 concurrent Range GETs) and reads the body with the same
    socket.recv_into loop the raw-loopback ceiling uses, so the two are measured alike."""
    part = size // streams; failed = []
    def one(i):
        try:
            one_stream(i)
        except BaseException as e:  # a thread's failure fails the run, not only that thread
            failed.append(e)
    def one_stream(i):
        lo = i * part; hi = size - 1 if i == streams - 1 else lo + part - 1
        s = socket.create_connection(("127.0.0.1", srv.port))
        extra = f"Range: bytes={lo}-{hi}\r\n" if streams > 1 else ""
        s.sendall(get_request(srv, f"{getattr(srv, 'prefix', '')}/v2/{repo}/blobs/{digest}", extra))
        status, _, got = read_response(s, srv.name)
        if status not in (200, 206):
            sys.exit(f"{srv.name} pull -> {status}")
        assert hi - lo + 1 <= got <= hi - lo + 1 + getattr(srv, "framing", 0), (got, hi - lo + 1)
    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    [t.start() for t in threads]; [t.join() for t in threads]
    if failed:
        raise failed[0]
    return size / (time.perf_counter() - start) / 1e6


def ranged_reads(srv, repo, digest, size, count=256, length=BUF):
    """`count` GETs of `length` bytes at random offsets of the blob (the same offsets for every server), one
    keep-alive connection, as a lazy-pulling or resuming client reads: MB/s over the whole run."""
    rng = random.Random(19); c = srv.conn()
    start = time.perf_counter()
    for _ in range(count):
        lo = rng.randrange(0, size - length)
        r, body = request(c, "GET", f"{getattr(srv, 'prefix', '')}/v2/{repo}/blobs/{digest}", headers={"Range": f"bytes={lo}-{lo + length - 1}"}, expect=(206,))
        assert len(body) == length
    elapsed = time.perf_counter() - start
    c.close()
    return count * length / elapsed / 1e6


def concurrent_pulls(srv, repo, digests, size):
    """One GET per digest, all at once (each on its own connection, opened first, then released together):
    errors, and the latency of each pull from sending its request to its last byte."""
    times, errors, connected = [], [0], [0]
    go = threading.Event(); lock = threading.Lock()
    def one(d):
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=120)
        except OSError:
            with lock:
                errors[0] += 1; connected[0] += 1
            return
        with lock:
            connected[0] += 1
        go.wait()
        try:
            t = time.perf_counter()
            s.sendall(get_request(srv, f"/v2/{repo}/blobs/{d}"))
            status, _, got = read_response(s, srv.name, 64 * 1024)
            ok = status == 200 and got == size
            with lock:
                times.append((time.perf_counter() - t) * 1000)
                errors[0] += not ok
        except OSError:
            with lock:
                errors[0] += 1
    threads = [threading.Thread(target=one, args=(d,)) for d in digests]
    [t.start() for t in threads]
    end = time.time() + 30
    while connected[0] < len(digests) and time.time() < end:
        time.sleep(0.01)
    go.set()
    [t.join() for t in threads]
    times.sort()
    return {"errors": errors[0], "p99_ms": times[max(0, -(-99 * len(times) // 100) - 1)] if times else float("nan")}


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


def timed(argv):
    """Runs argv; returns (wall seconds, its CPU seconds)."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if status:
        sys.exit(f"{argv[0]} failed ({status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def dd_fsync(source, directory):
    """The disk's durable write rate: `dd … bs=1M conv=fsync` of the blob (read from the page cache) into
    a new file in the servers' filesystem, as every server must write and fsync a blob before its 201."""
    out = os.path.join(directory, "dd.out")
    wall, _ = timed(["dd", f"if={source}", f"of={out}", "bs=1M", "conv=fsync"])
    size = os.path.getsize(out); os.unlink(out)
    return size / wall / 1e6


def sha256_rate(source):
    """`openssl dgst -sha256` over the blob's bytes (in the page cache): MB/s per CPU second (one stream's
    hash runs on one core: on a machine busy with other work its wall time measures the other work) and CPU
    seconds per GB."""
    size = os.path.getsize(source)
    _, cpu = timed(["openssl", "dgst", "-sha256", source])
    return size / cpu / 1e6, cpu / (size / 1e9)


def aes_gcm_rate():
    """`openssl speed -evp aes-256-gcm` on 64 KiB blocks (Wharf's sealed segment): MB/s of one core, the
    ceiling of any pull or push of a sealed blob on one stream."""
    out = subprocess.run(["openssl", "speed", "-evp", "aes-256-gcm", "-bytes", "65536", "-seconds", "1"], capture_output=True, text=True).stdout
    m = re.search(r"^AES-256-GCM\s+([\d.]+)k", out, re.M | re.I)
    return float(m.group(1)) * 1000 / 1e6 if m else None


def tags_list_ms(srv, repo, runs=50):
    c = srv.conn(); times = []
    for _ in range(runs + 5):
        t = time.perf_counter(); r, body = request(c, "GET", f"/v2/{repo}/tags/list?n=1000", expect=(200,)); times.append((time.perf_counter() - t) * 1000)
    assert len(json.loads(body)["tags"]) == 1000
    c.close()
    return statistics.median(times[5:])


def put_manifest_ms(srv, repo, runs=50, prefix="put"):
    """PUT of the small image's manifest under a new tag each time (prefix-N), one keep-alive connection (median)."""
    _, _, manifest = small_image()
    c = srv.conn(); times = []
    for i in range(runs + 5):
        t = time.perf_counter()
        request(c, "PUT", f"/v2/{repo}/manifests/{prefix}-{i}", manifest, {"Content-Type": OCI_MANIFEST}, (201,))
        times.append((time.perf_counter() - t) * 1000)
    c.close()
    return statistics.median(times[5:])


def fdatasync_ms(directory, runs=200):
    """The disk's commit latency: an 8 KiB write then fdatasync (what a PostgreSQL commit waits for), median."""
    path = os.path.join(directory, "fdatasync.bin"); fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600); times = []
    try:
        for i in range(runs):
            t = time.perf_counter(); os.pwrite(fd, BASE[:8192], (i % 16) * 8192); os.fdatasync(fd); times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd); os.unlink(path)
    return statistics.median(times)


def start(spawn, work, name, runs):
    """Starts the server `runs` times, each on an empty data directory; keeps the last one running and
    records the median cold start (spawn to first 200 on /v2/)."""
    times = []
    for i in range(runs):
        srv = spawn(os.path.join(work, f"{name}-{i}"))
        times.append(srv.cold_start_ms)
        if i < runs - 1:
            srv.stop()
    srv.cold_start_ms = statistics.median(times)
    srv.data = os.path.join(work, f"{name}-{runs - 1}")
    return srv


# ----------------------------------------------------------------------------------- the references

class FloorSendfile(Server):
    """The floor's sendfile prototype (bench/floor/ZeroCopy.cs): the same process, its second port, blobs under
    /zc/chunked: sendfile(2) on the socket under Kestrel, the body framed as one chunk (no Content-Length)."""
    prefix, framing = "/zc/chunked", 32

    def __init__(self, floor, port):  # pylint: disable=super-init-not-called
        self.name, self.port, self.proc = "Kestrel floor, sendfile", port, floor.proc


class FloorSealed(Server):
    """The floor's sealed pull (bench/floor/Sealed.cs): the same process, blobs under /sealed: the file sealed at rest
    (AES-256-GCM segments) and decrypted straight into Kestrel's response pipe."""
    prefix = "/sealed"

    def __init__(self, floor):  # pylint: disable=super-init-not-called
        self.name, self.port, self.proc = "Kestrel floor, sealed", floor.port, floor.proc


class FloorPush(Server):
    """The floor's push route (bench/floor/SealedPush.cs) in its own process, started with Wharf's transport settings:
    a monolithic PUT's body hashed, sealed in Wharf's segment format (or not: the plaintext push), written with
    O_DIRECT, fsynced. The repository name picks the kind (the floor's POST answers /push/plain for one ending in
    "plain")."""

    def __init__(self, floor, name, repo):  # pylint: disable=super-init-not-called
        self.name, self.port, self.proc, self.repo = name, floor.port, floor.proc, repo


class Nginx:
    """nginx serving, with sendfile, the small file (as large as the image manifest) and, at the paths Wharf
    serves them at, the same blobs: the pull and small-request references, read by the same clients."""

    def __init__(self, work, root):
        self.name, self.auth, self.dir = "nginx", None, os.path.join(work, "nginx")
        os.makedirs(self.dir)
        self.port = free_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = f"""{user}worker_processes 2;
worker_rlimit_nofile 20000;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log error;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 10000000;
  default_type application/octet-stream;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    root {root};
  }}
}}
"""
        path = os.path.join(self.dir, "nginx.conf")
        open(path, "w").write(conf)
        self.proc = subprocess.Popen(["nginx", "-c", path, "-p", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 30
        while not os.path.exists(f"{self.dir}/nginx.pid") or not self.workers():
            if self.proc.poll() is not None or time.time() > end:
                sys.exit("nginx did not start: " + open(f"{self.dir}/error.log").read() if os.path.exists(f"{self.dir}/error.log") else "")
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def workers(self):
        try:
            return [int(p) for p in open(f"/proc/{self.pid}/task/{self.pid}/children").read().split()]
        except FileNotFoundError:
            return []

    def cpu(self):
        return sum(cpu_seconds(p) for p in [self.pid] + self.workers())

    def rss(self):
        return sum(rss_kib(p) for p in [self.pid] + self.workers())

    def conn(self):
        return AuthConnection("127.0.0.1", self.port, timeout=120)

    def stop(self):
        self.proc.terminate(); self.proc.wait()


class Postgres:
    """A throwaway PostgreSQL cluster from the installed binaries (as bench/cluster and the tests start
    it: initdb, trust, as nobody when root), one database per Wharf."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg"); os.makedirs(self.dir)
        version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: float(v))[-1]
        self.bin = f"/usr/lib/postgresql/{version}/bin"
        self.run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            os.chmod(work, 0o755); subprocess.run(["chown", "nobody", self.dir], check=True)
        subprocess.run(self.run_as + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB"
        subprocess.run(self.run_as + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-o", opts, "-l", f"{self.dir}/log", "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pid = int(open(f"{self.dir}/data/postmaster.pid").readline())

    def database(self, name):
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f"CREATE DATABASE {name}"],
                       check=True, stdout=subprocess.DEVNULL)
        return f"Host=127.0.0.1;Port={self.port};Username=postgres;Database={name};Maximum Pool Size=100"

    def counters(self, database):
        """(the cluster's next transaction id, its WAL flushes so far). The id advances once per transaction that wrote
        (exact at once; this query's own txid_current() takes one); the flush count is PostgreSQL's cumulative statistics,
        which a backend reports when it goes idle at most once a second and otherwise up to 10 s later: read it 11 s
        after the work."""
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-At", "-c",
                              "SELECT txid_current(), (SELECT wal_sync FROM pg_stat_wal)"],
                             capture_output=True, text=True, check=True).stdout.strip()
        xid, syncs = out.split("|")
        return int(xid), int(syncs)

    def schema_alone(self, name):
        """The floor under an empty-database start: Wharf's PostgreSQL migrations, every script, sent by psql to a new
        database as one command (one round trip and one transaction, as the migrator sends them), nothing else.
        Returns (wall ms, PostgreSQL's CPU ms: the backend's, reaped by the postmaster); the database is dropped."""
        scripts = sorted(os.listdir(MIGRATIONS))
        sql = "".join(open(os.path.join(MIGRATIONS, f)).read() + "\n" for f in scripts if f.endswith(".sql"))
        self.database(name)
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        before = children_cpu_ms(self.pid); t = time.perf_counter()
        subprocess.run([*psql, "-d", name, "-c", sql], check=True, stdout=subprocess.DEVNULL)
        wall = (time.perf_counter() - t) * 1000
        time.sleep(0.3)  # the backend exits and is reaped: its CPU lands in the postmaster's cutime
        cpu = children_cpu_ms(self.pid) - before
        subprocess.run([*psql, "-c", f"DROP DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
        return wall, cpu

    def stop(self):
        subprocess.run(self.run_as + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ----------------------------------------------------------------------------------------- IAM mode

def signed(port, service, key_id, secret, body, headers):
    """A SigV4-signed POST / to the server (as botocore signs it); returns (status, body)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = dict(headers, host=f"127.0.0.1:{port}", **{"x-amz-date": amz_date})
    names = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), names, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{REGION}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={names}, "
                                f"Signature={hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/", body=body, headers=headers)
    r = c.getresponse(); data = r.read(); c.close()
    if r.status != 200:
        sys.exit(f"signed {service} call on port {port}: {r.status} {data[:500]!r}")
    return data


def iam(port, key_id, secret, action, **params):
    body = urllib.parse.urlencode({"Action": action, "Version": "2010-05-08", **params}).encode()
    return signed(port, "iam", key_id, secret, body, {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}).decode()


def docker_login(port, key_id, secret):
    """`aws ecr get-login-password` then `docker login -u AWS`: the Authorization header docker sends on
    every /v2 request afterwards (Basic, user AWS, the GetAuthorizationToken password)."""
    data = signed(port, "ecr", key_id, secret, b"{}", {"content-type": "application/x-amz-json-1.1",
                                                       "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"})
    token = json.loads(data)["authorizationData"][0]["authorizationToken"]  # base64 of AWS:<password>
    assert base64.b64decode(token).startswith(b"AWS:")
    return "Basic " + token


def iam_user(srv):
    """An IAM user with the ECR power-user managed policy and an access key, made by the root key the first
    start wrote: every /v2 request of the bench's load is then authorised against a policy, as in use."""
    creds = dict(line.split(" = ", 1) for line in open(os.path.join(srv.data, "root-credentials")).read().splitlines() if " = " in line)
    root = (creds["aws_access_key_id"].strip(), creds["aws_secret_access_key"].strip())
    iam(srv.port, *root, "CreateUser", UserName="bench")
    iam(srv.port, *root, "AttachUserPolicy", UserName="bench", PolicyArn=POWER_USER)
    xml = iam(srv.port, *root, "CreateAccessKey", UserName="bench")
    user = (re.search(r"<AccessKeyId>([^<]+)", xml).group(1), re.search(r"<SecretAccessKey>([^<]+)", xml).group(1))
    return docker_login(srv.port, *root), docker_login(srv.port, *user)


# ---------------------------------------------------------------------------------------- measuring

class Run:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.only = set(args.only.split(","))
        unknown = self.only - set(GROUPS)
        if unknown:
            sys.exit(f"--only: unknown group(s) {', '.join(sorted(unknown))}; groups: {', '.join(GROUPS)}")
        self.r = {}  # (server name, metric) -> value
        self.servers = []

    def want(self, *groups):
        return any(g in self.only for g in groups)

    def put(self, srv, key, value):
        self.r[(srv if isinstance(srv, str) else srv.name, key)] = value

    def get(self, srv, key):
        return self.r.get((srv, key))

    def collect(self, srv, key, value):
        self.r.setdefault((srv.name, key), []).append(value)


def wharf_env(extra=None):
    # The per-caller rate limits stay on, so their cost is measured, but above this one client's load
    # (every request comes from 127.0.0.1): Distribution has no such limits.
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read", "Write", "Token") for k in ("RequestsPerSecond", "Burst")}
    return dict(os.environ, Logging__LogLevel__Default="Warning", WHARF__Registry__DefaultAccount=ACCOUNT,
                WHARF__Registry__DefaultRegion=REGION, **limits, **(extra or {}))


def main():
    ap = argparse.ArgumentParser(description="Wharf against Distribution and the machine (see bench/README.md)")
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--wharf-binary", help="run every Wharf server as this Native AOT executable (a publish directory's "
                    "`wharf`, what the image ships) instead of `dotnet <wharf-dll>`")
    ap.add_argument("--floor-dll", help="the Kestrel floor (bench/floor): an empty ASP.NET Core app beside nginx, for the runtime's least cost")
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups of rows (default all): {','.join(GROUPS)}")
    ap.add_argument("--no-distribution", action="store_true", help="skip Distribution (its column stays empty)")
    ap.add_argument("--no-plaintext", action="store_true", help="skip the pull and push rows of Wharf with Encryption:Enabled=false")
    ap.add_argument("--seconds", type=int, default=5, help="length of each small-request load run (default 5)")
    ap.add_argument("--warmup", type=int, default=8, help="unmeasured load per small row and server before the rounds, in seconds (default 8)")
    ap.add_argument("--rounds", type=int, default=2, help="load runs per server and small row, taking turns; the median is kept (default 2)")
    ap.add_argument("--connections", type=int, default=1000, help="keep-alive connections of the concurrency row (default 1000)")
    ap.add_argument("--distinct", type=int, default=200, help="concurrent pulls of distinct blobs (default 200)")
    ap.add_argument("--distinct-mib", type=int, default=4, help="size of each of those blobs in MiB (default 4)")
    ap.add_argument("--mib", type=int, default=512, help="size of the pushed and pulled blob in MiB (default 512; the RSS push is twice it)")
    args = ap.parse_args()
    global BIG, HUGE
    BIG, HUGE = args.mib * MIB, 2 * args.mib * MIB
    work = tempfile.mkdtemp(prefix="wharf-bench-")
    run = Run(args, work)
    started = time.perf_counter()
    pg = None
    try:
        pg = measure(run, work)
    finally:
        for s in run.servers:
            try:
                s.stop()
            except Exception:
                pass
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    table = report(run)
    table += f"\n\nRun time {time.perf_counter() - started:.0f} s; load average at the end {os.getloadavg()[0]:.1f}.\n"
    print(table)
    if args.out:
        open(args.out, "w").write(table)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def measure(run, work):
    args = run.args
    runs_start = RUNS if run.want("start") else 1
    log("digests of the generated blobs")
    digests = {seed: blob_digest(seed) for seed in range(1, 2 * RUNS + 2)}
    huge_digest = blob_digest(99, HUGE) if run.want("start") else None
    small_size = args.distinct_mib * MIB
    distinct = {1000 + i: blob_digest(1000 + i, small_size) for i in range(args.distinct)} if run.want("concurrency") else {}

    # nginx's root: the small file, and the blobs at the paths Wharf serves them at.
    root = os.path.join(work, "www")
    os.makedirs(os.path.join(root, "small"))
    _, _, manifest = small_image()
    open(os.path.join(root, "small", "manifest.json"), "wb").write(manifest)
    blob_file = os.path.join(root, "v2", "bench", "big", "blobs", digests[1])
    log("writing nginx's files")
    write_blob(blob_file, 1)
    for seed, d in distinct.items():
        write_blob(os.path.join(root, "v2", "bench", "many", "blobs", d), seed, small_size)

    # The physical references, before any server runs.
    log("references: loopback, dd conv=fsync, openssl sha256")
    run.put("ref", "loopback 1", statistics.median(raw_loopback(BIG, 1) for _ in range(RUNS)))
    run.put("ref", "loopback 8", statistics.median(raw_loopback(BIG, 8) for _ in range(RUNS)))
    run.put("ref", "dd", statistics.median(dd_fsync(blob_file, work) for _ in range(RUNS)))
    sha = [sha256_rate(blob_file) for _ in range(RUNS)]
    run.put("ref", "sha256", statistics.median(s[0] for s in sha))
    run.put("ref", "sha256 cpu/GB", statistics.median(s[1] for s in sha))
    run.put("ref", "push limit", min(run.get("ref", k) for k in ("loopback 1", "dd", "sha256")))
    run.put("ref", "aes-gcm", aes_gcm_rate())

    nginx = Nginx(work, root); run.servers.append(nginx)
    floor = None
    if args.floor_dll and run.want("small", "pulls"):
        port = free_port()
        sendfile_port = free_port()
        floor = Server("Kestrel floor", ["dotnet", args.floor_dll, "--port", str(port), "--root", root, "--sendfile-port", str(sendfile_port)], port, wharf_env())
        run.servers.append(floor)
        floor_sendfile = FloorSendfile(floor, sendfile_port)
        floor_sealed = FloorSealed(floor)
    floor_pushers = []
    if args.floor_dll and run.want("pushes"):
        # Its own process: Wharf's 64 KiB memory-pool blocks and thread-pool spin limit, which the rows above do without.
        port = free_port()
        push_floor = Server("Kestrel floor, pushes", ["dotnet", args.floor_dll, "--port", str(port), "--root", root, "--wharf-transport"], port,
                            wharf_env({"DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0"}))
        run.servers.append(push_floor)
        floor_pushers = [FloorPush(push_floor, "Kestrel floor, sealed push", "floor/sealed"),
                         FloorPush(push_floor, "Kestrel floor, plaintext push", "floor/plain")]

    dist = None
    if not args.no_distribution and run.want("small", "pulls", "pushes", "start"):
        log("Distribution: cold starts on empty data directories")
        def distribution(data):
            port = free_port(); os.makedirs(data)
            cfg = data + ".yml"
            with open(cfg, "w") as f:
                f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
            s = Server("Distribution", ["docker-registry", "serve", cfg], port)
            s.argv = ["docker-registry", "serve", cfg]
            return s
        dist = start(distribution, work, "distribution", runs_start); run.servers.append(dist)

    def wharf_argv(port, data, auth="open", extra=()):
        program = [run.args.wharf_binary] if run.args.wharf_binary else ["dotnet", run.args.wharf_dll]
        return [*program, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", auth, *extra]

    def wharf_spawn(name, auth="open", settings=None, extra_fn=None):
        def spawn(data):
            port = free_port(); os.makedirs(data, exist_ok=True)
            extra = extra_fn(data) if extra_fn else ()
            argv = wharf_argv(port, data, auth, extra)
            s = Server(name, argv, port, wharf_env(settings), ready=(200, 401) if auth == "iam" else (200,),
                       log=open(os.path.join(work, f"{os.path.basename(data)}.log"), "ab"))
            s.argv, s.settings = argv, settings
            return s
        return spawn

    log("Wharf (SQLite, open mode, default settings: blobs sealed): cold starts on empty data directories")
    wharf = start(wharf_spawn("Wharf"), work, "wharf", runs_start); run.servers.append(wharf)
    plain = None
    if not args.no_plaintext and run.want("pulls", "pushes"):
        plain = start(wharf_spawn("Wharf plaintext", settings={"WHARF__Encryption__Enabled": "false"}), work, "wharf-plain", 1)
        run.servers.append(plain)
    wiam = None
    if run.want("iam"):
        wiam = start(wharf_spawn("Wharf IAM", auth="iam"), work, "wharf-iam", 1); run.servers.append(wiam)
    wpg = pg = None
    if run.want("postgres"):
        log("PostgreSQL and Wharf on it: cold starts on empty databases")
        pg = Postgres(work)
        conns = {}
        def pg_extra(data):
            conns[data] = pg.database("wharf_" + re.sub(r"\W", "_", os.path.basename(data)))
            return ("--metadata", "postgres", "--metadata-connection", conns[data])
        wpg = start(wharf_spawn("Wharf PostgreSQL", extra_fn=pg_extra), work, "wharf-pg", runs_start); run.servers.append(wpg)
        schema_runs = [pg.schema_alone(f"schema_alone_{i}") for i in range(runs_start)]
        run.put(wpg, "schema alone", statistics.median(w for w, _ in schema_runs))
        run.put(wpg, "schema alone pg cpu", statistics.median(c for _, c in schema_runs))

    for s in (dist, wharf, wpg):
        if s:
            run.put(s, "cold start, empty", s.cold_start_ms)
            run.put(s, "RSS after start", s.rss() / 1024)

    # Setup: the small image on every registry (and 1,000 tags for tags/list).
    registries = [s for s in (dist, wharf, plain, wiam, wpg) if s]
    layer = None
    for s in registries:
        if s is wiam:
            root_auth, user_auth = iam_user(s)
            s.auth = root_auth
            layer = push_small_image(s, "bench/app", ["latest"])
            s.auth = user_auth  # the load runs as the IAM user, authorised by its policy on every request
        else:
            layer = push_small_image(s, "bench/app", ["latest"])
    for s in (dist, wharf):
        if s and run.want("small"):
            push_small_image(s, "bench/tags", [f"t{i:04d}" for i in range(1000)])
    setup_end = time.perf_counter()
    time.sleep(1)
    for s in (dist, wharf, wpg):
        if s:
            run.put(s, "RSS idle", s.rss() / 1024)
    time.sleep(max(0.0, setup_end + IDLE_TRIMMED_S - time.perf_counter()))
    for s in (dist, wharf, wpg):
        if s:
            run.put(s, "RSS idle, trimmed", s.rss() / 1024)

    # 4. Peak RSS during a 1 GiB push (twice --mib), right after idle: before any load has grown the heap.
    if run.want("start", "postgres"):
        for s in (dist, wharf, wpg):
            if s and (s is wpg or run.want("start")):
                log(f"{s.name}: {HUGE // MIB} MiB push, RSS sampled")
                peak = [0]; stop = threading.Event()
                def sample(s=s):
                    while not stop.is_set():
                        peak[0] = max(peak[0], s.rss()); time.sleep(0.01)
                t = threading.Thread(target=sample); t.start()
                push_monolithic(s, "bench/huge", 99, huge_digest or blob_digest(99, HUGE), HUGE)
                stop.set(); t.join()
                run.put(s, "RSS peak", peak[0] / 1024)

    # 1. Small requests: every server in turn, row by row, round by round.
    if run.want("small", "iam", "postgres"):
        small = [s for s in (nginx, floor if run.want("small") else None, wharf if run.want("small") else None, wiam, wpg,
                             dist if run.want("small") else None) if s]
        # Warm-up: every row's request on every server until the runtime's tiered compilation has settled (with
        # TieredPGO a method is compiled three times, and the measured CPU per request fell from 120 to 32 µs over
        # the first 15 s of load on a busy machine).
        log(f"small requests: warm-up, {args.warmup} s per row and server")
        for s in small:
            if s is nginx or s is floor:
                load_wrk(s, "/small/manifest.json", seconds=args.warmup, fail=False)
                load_ab(s, "/small/manifest.json", seconds=max(args.warmup // 2, 1))
                if s is floor:
                    load_wrk(s, "/v2/", seconds=args.warmup, fail=False)
            else:
                load_wrk(s, "/v2/", seconds=args.warmup, fail=False)
                load_wrk(s, "/v2/bench/app/manifests/latest", headers=[f"Accept: {OCI_MANIFEST}"], seconds=args.warmup, fail=False)
                load_ab(s, f"/v2/bench/app/blobs/{layer}", seconds=args.warmup)
        for rnd in range(args.rounds):
            log(f"small requests: round {rnd + 1} of {args.rounds}")
            for s in small:
                if s is nginx or s is floor:
                    for key, res in (("small GET", load_wrk(s, "/small/manifest.json", seconds=args.seconds)),
                                     ("small HEAD", load_ab(s, "/small/manifest.json", seconds=args.seconds))):
                        run.collect(s, key, res["rps"]); run.collect(s, key + " cpu", res["cpu_us"])
                    if s is floor:
                        res = load_wrk(s, "/v2/", seconds=args.seconds)
                        run.collect(s, "/v2/", res["rps"]); run.collect(s, "/v2/ cpu", res["cpu_us"])
                    continue
                for key, res in (("/v2/", load_wrk(s, "/v2/", seconds=args.seconds)),
                                 ("manifest GET", load_wrk(s, "/v2/bench/app/manifests/latest", headers=[f"Accept: {OCI_MANIFEST}"], seconds=args.seconds)),
                                 ("blob HEAD", load_ab(s, f"/v2/bench/app/blobs/{layer}", seconds=args.seconds))):
                    run.collect(s, key, res["rps"]); run.collect(s, key + " cpu", res["cpu_us"])
        for k, v in list(run.r.items()):
            if isinstance(v, list):
                run.r[k] = statistics.median(v)
        for s in (dist, wharf, wpg):
            if s and run.want("small", "postgres") and (s is not dist or run.want("small")):
                if s is wpg:
                    # What a PUT costs PostgreSQL: its write transactions and WAL flushes, with the background work
                    # it starts (Postgres.counters says when each is exact; the first read takes a transaction id).
                    # They are counted over a second run of the same PUTs, alone: the latency row keeps its place
                    # right after the GET load.
                    db = conns[wpg.data].rsplit("Database=", 1)[1].split(";")[0]
                    run.put(s, "PUT manifest", put_manifest_ms(s, "bench/app"))
                    time.sleep(11); c0, w0 = pg.counters(db)
                    put_manifest_ms(s, "bench/app", prefix="counted")
                    time.sleep(11); c1, w1 = pg.counters(db)
                    run.put(s, "PUT commits", (c1 - c0 - 1) / 55); run.put(s, "PUT wal syncs", (w1 - w0) / 55)
                    run.put("ref", "fdatasync", fdatasync_ms(work))
                else:
                    run.put(s, "PUT manifest", put_manifest_ms(s, "bench/app"))
        for s in (dist, wharf):
            if s and run.want("small"):
                run.put(s, "tags/list", tags_list_ms(s, "bench/tags"))

    pushers = [s for s in (dist, wharf, plain) if s]
    pushed = set()
    # 3. Pushes: monolithic and chunked, the servers taking turns; server CPU over the monolithic ones.
    if run.want("pushes"):
        for s in floor_pushers:
            push_monolithic(s, s.repo, 1, digests[1])  # one unmeasured push of each kind: the floor's code compiled first
        for i, seed in enumerate(range(1, RUNS + 1)):
            log(f"pushes: monolithic {i + 1} of {RUNS}")
            for s in pushers + floor_pushers:
                c0 = s.cpu()
                run.collect(s, "push mono", push_monolithic(s, getattr(s, "repo", "bench/big"), seed, digests[seed]))
                run.collect(s, "push cpu", s.cpu() - c0)
                pushed.add((s.name, seed))
        for i, seed in enumerate(range(RUNS + 1, 2 * RUNS + 1)):
            log(f"pushes: chunked {i + 1} of {RUNS}")
            for s in pushers + floor_pushers:
                run.collect(s, "push chunked", push_chunked(s, getattr(s, "repo", "bench/big2"), seed, digests[seed]))
        for s in pushers + floor_pushers:
            run.put(s, "push mono", statistics.median(run.get(s.name, "push mono")))
            run.put(s, "push chunked", statistics.median(run.get(s.name, "push chunked")))
            run.put(s, "push cpu/GB", sum(run.get(s.name, "push cpu")) / (RUNS * BIG / 1e9))

    # 2. Pulls: 1 stream, 8 ranged streams, random ranged reads; the servers taking turns.
    if run.want("pulls"):
        # The first pull of a blob right after its push: what the store left in the page cache. nginx's reference is the
        # same bytes written past the page cache (dd oflag=direct), i.e. read from the disk.
        cold = os.path.join(root, "v2", "bench", "cold", "blobs", digests[1])
        os.makedirs(os.path.dirname(cold), exist_ok=True)
        for s in pushers:
            if (s.name, 1) not in pushed:
                push_monolithic(s, "bench/big", 1, digests[1])
            else:
                # Pushed already: a new blob of the same size, so that what is measured is a first pull after a push.
                push_monolithic(s, "bench/first", 2 * RUNS + 1, digests[2 * RUNS + 1])
        log("pulls: the first pull after the push")
        timed(["dd", f"if={blob_file}", f"of={cold}", "bs=1M", "oflag=direct", "conv=fsync"])
        run.put(nginx, "first pull", pull(nginx, "bench/cold", digests[1], BIG, 1))
        os.unlink(cold)
        for s in pushers:
            repo, seed = ("bench/big", 1) if (s.name, 1) not in pushed else ("bench/first", 2 * RUNS + 1)
            run.put(s, "first pull", pull(s, repo, digests[seed], BIG, 1))
        # The rounds below read from the page cache, as nginx's file (written by this script) is.
        for s in pushers:
            pull(s, "bench/big", digests[1], BIG, 1)
        if floor:
            pull(floor_sealed, "bench/big", digests[1], BIG, 1)  # seals the file once, before the rounds
        pullers = [nginx] + ([floor, floor_sendfile, floor_sealed] if floor else []) + pushers
        for label, fn in (("pull 1", lambda s: pull(s, "bench/big", digests[1], BIG, 1)),
                          ("pull 8", lambda s: pull(s, "bench/big", digests[1], BIG, 8)),
                          ("ranged", lambda s: ranged_reads(s, "bench/big", digests[1], BIG))):
            log(f"pulls: {label}")
            for _ in range(RUNS):
                for s in pullers:
                    c0 = s.cpu()
                    run.collect(s, label, fn(s))
                    if label == "pull 1":
                        run.collect(s, "pull cpu", s.cpu() - c0)
        for s in pullers:
            for label in ("pull 1", "pull 8", "ranged"):
                run.put(s, label, statistics.median(run.get(s.name, label)))
            run.put(s, "pull cpu/GB", sum(run.get(s.name, "pull cpu")) / (RUNS * BIG / 1e9))

    # 6. Concurrency: 1,000 keep-alive connections on manifest GETs; 200 pulls of distinct blobs at once.
    if run.want("concurrency"):
        log(f"concurrency: {args.connections} connections")
        for s in (nginx, wharf):
            path = "/small/manifest.json" if s is nginx else "/v2/bench/app/manifests/latest"
            res = load_wrk(s, path, headers=[f"Accept: {OCI_MANIFEST}"], seconds=max(args.seconds, 10), connections=args.connections, fail=False)
            run.put(s, "c1000 rps", res["rps"]); run.put(s, "c1000 p99", res["p99_ms"]); run.put(s, "c1000 errors", res["errors"])
        log(f"concurrency: {args.distinct} distinct pulls")
        for seed, d in distinct.items():
            push_monolithic(wharf, "bench/many", seed, d, small_size)
        for s in (nginx, wharf):
            res = concurrent_pulls(s, "bench/many", list(distinct.values()), small_size)
            run.put(s, "c200 p99", res["p99_ms"]); run.put(s, "c200 errors", res["errors"])

    # 4. Cold start on an existing data directory (the one measured above: images, tags, blobs).
    if run.want("start", "postgres"):
        for s in (dist, wharf, wpg):
            if s and (s is wpg or run.want("start")):
                log(f"{s.name}: cold starts on the existing data directory")
                times = []
                s.stop()
                for _ in range(RUNS):
                    n = Server(s.name, s.argv, s.port, wharf_env(getattr(s, "settings", None)) if s is not dist else None)
                    times.append(n.cold_start_ms); n.stop()
                run.put(s, "cold start, existing", statistics.median(times))
    return pg


def fmt(v, digits=None):
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if digits is None:
        digits = 0 if abs(v) >= 1000 else 1 if abs(v) >= 10 else 2
    return f"{v:,.{digits}f}"


def report(run):
    g, ref = run.get, lambda k: run.get("ref", k)
    rows, pending = [], []
    def row(metric, w, d=None, refv=None, refname="", ratio=None, target="", ok=None, digits=None):
        if w is None:
            return
        rows.extend(pending); pending.clear()
        if ratio is None and refv:
            ratio = w / refv
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        r = ratio if isinstance(ratio, str) else "" if ratio is None else f"{ratio:.2f}"
        rows.append(f"| {metric} | {fmt(w, digits)} | {fmt(d, digits)} | {fmt(refv, digits)}{' ' + refname if refv is not None and refname else ''} | {r} | {target} | {verdict} |")
    def section(title):  # printed with its first row
        pending[:] = [f"| **{title}** | | | | | | |"]

    section("1. Small requests (SQLite, open mode)")
    for key, label, nkey, share in (("/v2/", "GET /v2/ (rps)", "small GET", 0.80), ("manifest GET", "manifest GET by tag (rps)", "small GET", 0.50),
                                    ("blob HEAD", "blob HEAD (rps)", "small HEAD", 0.50)):
        w, n = g("Wharf", key), g("nginx", nkey)
        row(label, w, g("Distribution", key), n, f"nginx {nkey.split()[1]}", target=f"≥ {share:.2f} × nginx", ok=w is not None and n and w >= share * n)
    for key, label in (("/v2/", "GET /v2/"), ("manifest GET", "manifest GET"), ("blob HEAD", "blob HEAD")):
        w = g("Wharf", key + " cpu")
        row(f"server CPU per {label} (µs)", w, g("Distribution", key + " cpu"), g("nginx", ("small HEAD" if "HEAD" in key else "small GET") + " cpu"), "nginx",
            target="≤ 50 µs", ok=w is not None and w <= 50)
    section("1. Small requests (SQLite, IAM mode: an IAM user's ECR token on every request)")
    for key, label, nkey, share in (("/v2/", "GET /v2/ (rps)", "small GET", 0.80), ("manifest GET", "manifest GET by tag (rps)", "small GET", 0.50),
                                    ("blob HEAD", "blob HEAD (rps)", "small HEAD", 0.50)):
        w, n = g("Wharf IAM", key), g("nginx", nkey)
        row(label, w, None, n, f"nginx {nkey.split()[1]}", target=f"≥ {share:.2f} × nginx", ok=w is not None and n and w >= share * n)
    for key, label in (("manifest GET", "manifest GET"), ("blob HEAD", "blob HEAD")):
        w, o = g("Wharf IAM", key), g("Wharf", key)
        row(f"{label}: IAM ÷ open mode", w, None, o, "open", target="≥ 0.85", ok=w is not None and o and w >= 0.85 * o)
    for key, label in (("/v2/", "GET /v2/"), ("manifest GET", "manifest GET"), ("blob HEAD", "blob HEAD")):
        w = g("Wharf IAM", key + " cpu")
        row(f"server CPU per {label}, IAM (µs)", w, None, g("nginx", ("small HEAD" if "HEAD" in key else "small GET") + " cpu"), "nginx",
            target="≤ 50 µs", ok=w is not None and w <= 50)

    for name, title in (("Wharf", "blobs sealed (default)"), ("Wharf plaintext", "blobs plaintext")):
        if g(name, "pull 1") is None and g(name, "push mono") is None:
            continue
        section(f"2. Pulls, {BIG // MIB} MiB, against nginx sendfile — {title}")
        for key, label in (("pull 1", "pull, 1 stream (MB/s)"), ("pull 8", "pull, 8 concurrent Range GETs (MB/s)"), ("ranged", "ranged reads, 256 × 1 MiB (MB/s)")):
            w, n = g(name, key), g("nginx", key)
            row(label, w, g("Distribution", key), n, "nginx", target="≥ 0.95 × nginx", ok=w is not None and n and w >= 0.95 * n)
        w, n = g(name, "first pull"), g("nginx", "first pull")
        row("first pull right after the push, 1 stream (MB/s)", w, g("Distribution", "first pull"), n, "nginx, from the disk", target="reported")
        w, n = g(name, "pull cpu/GB"), g("nginx", "pull cpu/GB")
        row("server CPU per GB pulled (s)", w, g("Distribution", "pull cpu/GB"), n, "nginx", target="≤ 1.5 × nginx", ok=w is not None and n and w <= 1.5 * n, digits=3)
        section(f"3. Pushes, {BIG // MIB} MiB, against the push limit — {title}")
        lim = ref("push limit")
        for key, label in (("push mono", "push monolithic (MB/s)"), ("push chunked", "push chunked, 16 MiB PATCHes (MB/s)")):
            w = g(name, key)
            row(label, w, g("Distribution", key), lim, "limit", target="≥ 0.50 × limit", ok=w is not None and w >= 0.5 * lim)
        w, sc = g(name, "push cpu/GB"), ref("sha256 cpu/GB")
        row("server CPU per GB pushed (s)", w, g("Distribution", "push cpu/GB"), sc, "SHA-256", target="≤ 2 × SHA-256", ok=w is not None and w <= 2 * sc, digits=2)

    F = "Kestrel floor"
    if g(F, "small GET") is not None or g(F, "pull 1") is not None:
        # The least an ASP.NET Core app costs on this runtime (bench/floor): what a MISS above cannot go below.
        section("The Kestrel floor: an empty ASP.NET Core app (no middleware, no database), same clients — the runtime's least")
        for key, label, nkey in (("/v2/", "GET /v2/ ({}) (rps)", "small GET"), ("small GET", "GET of the small file, from memory (rps)", "small GET"),
                                 ("small HEAD", "HEAD of the small file (rps)", "small HEAD")):
            row(label, g(F, key), None, g("nginx", nkey), f"nginx {nkey.split()[1]}", target="reported")
        for key, label in (("/v2/", "GET /v2/"), ("small GET", "small-file GET"), ("small HEAD", "small-file HEAD")):
            row(f"server CPU per {label} (µs)", g(F, key + " cpu"), None, g("nginx", ("small HEAD" if "HEAD" in key else "small GET") + " cpu"), "nginx", target="reported")
        for key, label in (("pull 1", "pull, 1 stream, Results.File (MB/s)"), ("pull 8", "pull, 8 concurrent Range GETs (MB/s)"), ("ranged", "ranged reads, 256 × 1 MiB (MB/s)")):
            row(label, g(F, key), None, g("nginx", key), "nginx", target="reported")
        row("server CPU per GB pulled (s)", g(F, "pull cpu/GB"), None, g("nginx", "pull cpu/GB"), "nginx", target="reported", digits=3)
        # The floor's other routes under the same clients: sendfile(2) under Kestrel, and a sealed file decrypted on the way.
        for name, first in (("Kestrel floor, sendfile", "pull, 1 stream, sendfile(2) under Kestrel, body as one chunk (MB/s)"),
                            ("Kestrel floor, sealed", "pull, 1 stream, sealed at rest, decrypted into the response (MB/s)")):
            if g(name, "pull 1") is None:
                continue
            for key, label in (("pull 1", first), ("pull 8", "pull, 8 concurrent Range GETs, the same (MB/s)"),
                               ("ranged", "ranged reads, 256 × 1 MiB, the same (MB/s)")):
                row(label, g(name, key), None, g("nginx", key), "nginx", target="reported")
            row("server CPU per GB pulled, the same (s)", g(name, "pull cpu/GB"), None, g("nginx", "pull cpu/GB"), "nginx", target="reported", digits=3)
        FL = "Kestrel floor, sealed"
        if g(FL, "pull 1") is not None:
            row("server CPU per GB pulled: Wharf sealed ÷ this floor", g("Wharf", "pull cpu/GB"), None, g(FL, "pull cpu/GB"), "floor, sealed", target="reported", digits=3)

    FP = "Kestrel floor, sealed push"
    if g(FP, "push mono") is not None:
        # The least a durable, verified push costs on this runtime (bench/floor/SealedPush.cs): hash, seal (or not),
        # O_DIRECT, fsync, with Wharf's transport settings; the difference between its two kinds is what sealing costs.
        section(f"The Kestrel floor: pushes, {BIG // MIB} MiB monolithic and in {CHUNK // MIB} MiB PATCHes (hash, seal, O_DIRECT, fsync; nothing else) — the runtime's least")
        lim, sc = ref("push limit"), ref("sha256 cpu/GB")
        for name, kind in ((FP, "sealed in Wharf's segment format"), ("Kestrel floor, plaintext push", "plaintext")):
            row(f"push monolithic, {kind} (MB/s)", g(name, "push mono"), None, lim, "limit", target="reported")
            row(f"push chunked, {CHUNK // MIB} MiB PATCHes, {kind} (MB/s)", g(name, "push chunked"), None, lim, "limit", target="reported")
            row(f"server CPU per GB pushed, {kind} (s)", g(name, "push cpu/GB"), None, sc, "SHA-256", target="reported", digits=2)
        row("server CPU per GB pushed: sealed − plaintext, this floor (s)", g(FP, "push cpu/GB") - g("Kestrel floor, plaintext push", "push cpu/GB"),
            None, sc, "SHA-256", target="reported", digits=2)
        for name, floor_name, label in (("Wharf", FP, "Wharf sealed ÷ this floor, sealed"),
                                        ("Wharf plaintext", "Kestrel floor, plaintext push", "Wharf plaintext ÷ this floor, plaintext")):
            row(f"server CPU per GB pushed: {label}", g(name, "push cpu/GB"), None, g(floor_name, "push cpu/GB"), "floor", target="reported", digits=2)
            row(f"push chunked: {label}", g(name, "push chunked"), None, g(floor_name, "push chunked"), "floor", target="reported")

    section("4. Start and memory (SQLite)")
    row("cold start, existing data directory (ms)", g("Wharf", "cold start, existing"), g("Distribution", "cold start, existing"), target="≤ 150 ms", ok=(g("Wharf", "cold start, existing") or 1e9) <= 150)
    row("cold start, empty data directory (ms)", g("Wharf", "cold start, empty"), g("Distribution", "cold start, empty"), target="≤ 250 ms", ok=(g("Wharf", "cold start, empty") or 1e9) <= 250)
    row("RSS right after start (MiB)", g("Wharf", "RSS after start"), g("Distribution", "RSS after start"), target="≤ 60 MiB", ok=(g("Wharf", "RSS after start") or 1e9) <= 60)
    row("RSS idle, 1 s after setup (MiB)", g("Wharf", "RSS idle"), g("Distribution", "RSS idle"), target="≤ 60 MiB", ok=(g("Wharf", "RSS idle") or 1e9) <= 60)
    row(f"RSS idle, {IDLE_TRIMMED_S} s after setup: past Wharf's idle trim (MiB)", g("Wharf", "RSS idle, trimmed"), g("Distribution", "RSS idle, trimmed"), target="≤ 60 MiB", ok=(g("Wharf", "RSS idle, trimmed") or 1e9) <= 60)
    if g("Wharf", "RSS peak") is not None:
        idle = g("Wharf", "RSS idle")
        row(f"RSS peak during a {HUGE // MIB} MiB push (MiB)", g("Wharf", "RSS peak"), g("Distribution", "RSS peak"), idle, "idle", target="≤ idle + 64 MiB", ok=g("Wharf", "RSS peak") <= idle + 64)

    if g("Wharf", "c1000 p99") is not None:
        section(f"6. Concurrency (SQLite, open mode)")
        c = run.args.connections
        row(f"{c:,} keep-alive connections, manifest GET: errors", g("Wharf", "c1000 errors"), None, g("nginx", "c1000 errors"), "nginx", ratio="", target="0", ok=g("Wharf", "c1000 errors") == 0, digits=0)
        row(f"{c:,} keep-alive connections, manifest GET: p99 (ms)", g("Wharf", "c1000 p99"), None, g("nginx", "c1000 p99"), "nginx", target="reported")
        row(f"{c:,} keep-alive connections, manifest GET (rps)", g("Wharf", "c1000 rps"), None, g("nginx", "c1000 rps"), "nginx", target="reported")
        d = run.args.distinct
        row(f"{d} concurrent pulls of distinct {run.args.distinct_mib} MiB blobs: errors", g("Wharf", "c200 errors"), None, g("nginx", "c200 errors"), "nginx", ratio="", target="0", ok=g("Wharf", "c200 errors") == 0, digits=0)
        row(f"{d} concurrent pulls of distinct {run.args.distinct_mib} MiB blobs: p99 (ms)", g("Wharf", "c200 p99"), None, g("nginx", "c200 p99"), "nginx", target="reported")

    if g("Wharf PostgreSQL", "manifest GET") is not None or g("Wharf PostgreSQL", "cold start, empty") is not None:
        P = "Wharf PostgreSQL"
        section("7. PostgreSQL metadata (open mode): targets 1 and 4")
        for key, label, nkey, share in (("/v2/", "GET /v2/ (rps)", "small GET", 0.80), ("manifest GET", "manifest GET by tag (rps)", "small GET", 0.50),
                                        ("blob HEAD", "blob HEAD (rps)", "small HEAD", 0.50)):
            w, n = g(P, key), g("nginx", nkey)
            row(label, w, None, n, f"nginx {nkey.split()[1]}", target=f"≥ {share:.2f} × nginx", ok=w is not None and n and w >= share * n)
        for key, label in (("manifest GET", "manifest GET"), ("blob HEAD", "blob HEAD")):
            w, s = g(P, key), g("Wharf", key)
            row(f"{label}: PostgreSQL ÷ SQLite", w, None, s, "SQLite", target="≥ 0.50", ok=w is not None and s and w >= 0.5 * s)
            w = g(P, key + " cpu")
            row(f"server CPU per {label} (µs)", w, None, g("Wharf", key + " cpu"), "SQLite", target="≤ 50 µs", ok=w is not None and w <= 50)
        w = g(P, "PUT manifest")
        row("PUT manifest, new tag (ms)", w, g("Distribution", "PUT manifest"), g("Wharf", "PUT manifest"), "SQLite", target="≤ 2 ms", ok=w is not None and w <= 2)
        if g(P, "PUT commits") is not None:
            row("PostgreSQL write transactions per PUT manifest (with the background work it starts)", g(P, "PUT commits"), None, target="reported", digits=1)
            row("WAL flushes per PUT manifest", g(P, "PUT wal syncs"), None, target="reported", digits=1)
            row("PUT manifest ÷ one fdatasync of 8 KiB", w, None, ref("fdatasync"), "ms fdatasync", target="reported")
        row("cold start, existing database (ms)", g(P, "cold start, existing"), None, target="≤ 150 ms", ok=(g(P, "cold start, existing") or 1e9) <= 150)
        row("cold start, empty database (ms)", g(P, "cold start, empty"), None, target="≤ 250 ms", ok=(g(P, "cold start, empty") or 1e9) <= 250)
        row("the migrations alone: psql sends them to an empty database as one command (ms)", g(P, "schema alone"), None, target="reported")
        row("PostgreSQL's CPU for them (ms)", g(P, "schema alone pg cpu"), None, target="reported")
        row("RSS right after start (MiB)", g(P, "RSS after start"), None, target="≤ 60 MiB", ok=(g(P, "RSS after start") or 1e9) <= 60)
        row("RSS idle, 1 s after setup (MiB)", g(P, "RSS idle"), None, target="≤ 60 MiB", ok=(g(P, "RSS idle") or 1e9) <= 60)
        row(f"RSS idle, {IDLE_TRIMMED_S} s after setup: past Wharf's idle trim (MiB)", g(P, "RSS idle, trimmed"), None, target="≤ 60 MiB", ok=(g(P, "RSS idle, trimmed") or 1e9) <= 60)
        if g(P, "RSS peak") is not None:
            row(f"RSS peak during a {HUGE // MIB} MiB push (MiB)", g(P, "RSS peak"), None, g(P, "RSS idle"), "idle", target="≤ idle + 64 MiB", ok=g(P, "RSS peak") <= g(P, "RSS idle") + 64)

    if g("Distribution", "manifest GET") is not None or g("Distribution", "push mono") is not None:
        section("Against Distribution 2.8.2 (the earlier targets)")
        for key, label, times in (("/v2/", "GET /v2/", 10), ("manifest GET", "manifest GET by tag", 10), ("blob HEAD", "blob HEAD", 10),
                                  ("push mono", "push monolithic", 2), ("push chunked", "push chunked", 3)):
            w, d = g("Wharf", key), g("Distribution", key)
            if w is not None and d:
                row(f"{label}: Wharf ÷ Distribution", w, d, None, ratio=w / d, target=f"≥ {times}×", ok=w >= times * d)
        w = g("Wharf", "tags/list")
        row("tags/list, 1,000 tags (ms)", w, g("Distribution", "tags/list"), target="≤ 1 ms", ok=w is not None and w <= 1)
        if g("Wharf", "PUT manifest") is not None:
            row("PUT manifest, new tag (ms)", g("Wharf", "PUT manifest"), g("Distribution", "PUT manifest"))

    pre = [f"Wharf ran as {'the Native AOT executable ' + os.path.basename(run.args.wharf_binary) if run.args.wharf_binary else 'the JIT build (dotnet wharf.dll)'}."]
    if ref("push limit"):
        pre.append(f"References, same run: raw loopback (same client, server writing from memory) {ref('loopback 1'):,.0f} MB/s with 1 stream, "
                   f"{ref('loopback 8'):,.0f} MB/s with 8; `dd bs=1M conv=fsync` of the {BIG // MIB} MiB blob into the servers' filesystem "
                   f"{ref('dd'):,.0f} MB/s; `openssl dgst -sha256` of it {ref('sha256'):,.0f} MB/s of one core ({ref('sha256 cpu/GB'):.2f} s CPU per GB). "
                   f"Push limit = min of the three = {ref('push limit'):,.0f} MB/s."
                   + (f" `openssl speed -evp aes-256-gcm` on 64 KiB blocks (what sealing costs a sealed blob's one stream): {ref('aes-gcm'):,.0f} MB/s." if ref("aes-gcm") else ""))
    if g("nginx", "small GET") is not None:
        pre.append(f"nginx small file ({len(small_image()[2])} bytes, the manifest's size): GET {g('nginx', 'small GET'):,.0f} rps "
                   f"({g('nginx', 'small GET cpu'):.1f} µs CPU), HEAD {g('nginx', 'small HEAD'):,.0f} rps ({g('nginx', 'small HEAD cpu'):.1f} µs CPU).")
    head = ["| metric | Wharf | Distribution 2.8.2 | physical reference | ratio | target | |", "|---|---:|---:|---:|---:|---|---|"]
    return "\n\n".join(pre + ["\n".join(head + rows)])


if __name__ == "__main__":
    main()
