#!/usr/bin/env python3
"""Replication of generated images to a remote region (a second Wharf) beside `skopeo copy` of the same
images to the same kind of destination, in the same run, both through one byte-counting TCP proxy.
Driven by bench/replication/run; standard library only. See bench/README.md ("Replication").

Two Wharf processes run on loopback, each with its own data directory and port: the source (open auth,
region us-east-1) and the destination (IAM auth, the same account, region eu-west-1, its root access key
used as the remote region's credentials). Each measurement gets a fresh destination, so neither finds
blobs the other copied."""
import argparse, base64, datetime, hashlib, hmac, http.client, io, json, math, os, random, resource, shutil
import socket, subprocess, sys, tarfile, tempfile, threading, time, zlib

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_here, ".."), os.path.join(_here, "..", "s3"), os.path.join(_here, "..", "cluster")]
from bench import cpu_seconds, free_port  # noqa: E402  (bench/bench.py)
from bench_s3 import machine_busy  # noqa: E402  (bench/s3/bench_s3.py)
from cluster import wait_http  # noqa: E402  (bench/cluster/cluster.py)

ACCOUNT = "111122223333"
SOURCE_REGION = "us-east-1"
REMOTE_REGION = "eu-west-1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921."
MiB = 1 << 20


def say(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- images

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class ImageSet:
    """`images` images of `layers` layers each. The lower half of each image's layers is drawn from a pool
    of `pool` shared base layers (1-4 MiB each), the upper half is the image's own (128 KiB-1 MiB,
    log-uniform), as application images on a few common bases look. Every layer is a real gzip'd tar of
    one file of random bytes (incompressible, so the layer's size is the size drawn); a config with the
    layers' diff_ids and an OCI manifest complete each image. Deterministic for a seed."""

    def __init__(self, images, layers, pool, repositories, seed):
        rng = random.Random(seed)
        self.blobs = {}          # digest -> bytes (layers and configs)
        self.images = []         # dicts: repo, tag, digest, manifest, blobs
        shared_count = layers // 2
        base = [self._layer(rng, f"base/{i}", rng.randint(1 * MiB, 4 * MiB)) for i in range(pool)]
        for n in range(images):
            own = [self._layer(rng, f"app{n}/{k}", int(math.exp(rng.uniform(math.log(128 << 10), math.log(MiB)))))
                   for k in range(layers - shared_count)]
            chosen = sorted(rng.sample(range(pool), shared_count))
            stack = [base[i] for i in chosen] + own
            config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": [f"/app{n}"]},
                                 "rootfs": {"type": "layers", "diff_ids": [diff for _, _, diff in stack]}},
                                sort_keys=True).encode()
            self.blobs[sha(config)] = config
            manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                   "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
                                   "layers": [{"mediaType": OCI_LAYER, "digest": d, "size": s} for d, s, _ in stack]}).encode()
            self.images.append({"repo": f"bench/service-{n % repositories}", "tag": f"v{n // repositories}",
                                "digest": sha(manifest), "manifest": manifest,
                                "blobs": [sha(config)] + [d for d, _, _ in stack]})
        # A base layer no image drew (possible with few images) is no image's and never sent.
        used = {d for i in self.images for d in i["blobs"]}
        self.blobs = {d: b for d, b in self.blobs.items() if d in used}
        self.unique_blob_bytes = sum(len(b) for b in self.blobs.values())
        self.manifest_bytes = sum(len(i["manifest"]) for i in self.images)
        self.unique_bytes = self.unique_blob_bytes + self.manifest_bytes
        # What a copy that sends every image whole (no blob the destination already has is skipped) sends.
        self.naive_bytes = sum(len(self.blobs[d]) for i in self.images for d in i["blobs"]) + self.manifest_bytes
        self.layer_count = len(self.blobs) - images

    def _layer(self, rng, name, size):
        content = rng.randbytes(size)
        tar = io.BytesIO()
        with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as t:
            info = tarfile.TarInfo(name + "/data"); info.size = size; info.mtime = 0
            t.addfile(info, io.BytesIO(content))
        raw = tar.getvalue()
        gz = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip; header mtime 0, so deterministic
        blob = gz.compress(raw) + gz.flush()
        digest = sha(blob)
        self.blobs[digest] = blob
        return digest, len(blob), sha(raw)


def push(port, images):
    """Pushes every image to the source (open auth): each blob the repository lacks in one monolithic
    POST, then the manifest by tag."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for image in images.images:
        for d in image["blobs"]:
            c.request("HEAD", f"/v2/{image['repo']}/blobs/{d}"); r = c.getresponse(); r.read()
            if r.status == 200:
                continue
            c.request("POST", f"/v2/{image['repo']}/blobs/uploads/?digest={d}", body=images.blobs[d],
                      headers={"Content-Type": "application/octet-stream"})
            r = c.getresponse(); body = r.read()
            if r.status != 201:
                sys.exit(f"push of blob {d} to the source: {r.status} {body[:300]!r}")
        c.request("PUT", f"/v2/{image['repo']}/manifests/{image['tag']}", body=image["manifest"], headers={"Content-Type": OCI_MANIFEST})
        r = c.getresponse(); body = r.read()
        if r.status != 201:
            sys.exit(f"push of manifest {image['repo']}:{image['tag']} to the source: {r.status} {body[:300]!r}")
    c.close()


# ----------------------------------------------------------------------------------------------- proxy

class CountingProxy:
    """A TCP proxy on loopback that counts the bytes it carries each way. `upstream` (a port) may change
    between measurements; connections are not parsed, so every byte counts: bodies, HTTP headers, TLS-less
    framing, the API calls around them. With `rate` (bytes/s), the bytes carried down (upstream to client)
    share one token bucket: a link of that speed between the upstream and every client."""

    def __init__(self, rate=None):
        self.upstream = None
        self.up = self.down = self.connections = 0
        self.lock = threading.Lock()
        self.rate, self.tokens, self.tokens_at = rate, 0.0, time.monotonic()
        self.listener = socket.socket(); self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0)); self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self, upstream):
        with self.lock:
            self.upstream, self.up, self.down, self.connections = upstream, 0, 0, 0

    def counts(self):
        with self.lock:
            return self.up, self.down, self.connections

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close(); continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "down"), daemon=True).start()

    def _take(self, n):
        """Waits until the link has carried n more bytes' worth of time (bursts up to 50 ms of the rate)."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.rate * 0.05, self.tokens + (now - self.tokens_at) * self.rate)
                self.tokens_at = now
                if self.tokens >= n or self.tokens >= self.rate * 0.05:
                    self.tokens -= n
                    return
                wait = (min(n, self.rate * 0.05) - self.tokens) / self.rate
            time.sleep(wait)

    def _pump(self, src, dst, direction):
        buf = bytearray(1 << 20); view = memoryview(buf)
        try:
            while True:
                n = src.recv_into(buf)
                if n == 0:
                    break
                if self.rate and direction == "down":
                    self._take(n)
                dst.sendall(view[:n])
                with self.lock:
                    if direction == "up":
                        self.up += n
                    else:
                        self.down += n
        except OSError:
            pass
        finally:
            for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    s.shutdown(how)
                except OSError:
                    pass


# ------------------------------------------------------------------------------------------- ECR API

class Ecr:
    """The ECR JSON API with SigV4, enough for the bench: a few calls, signed as botocore signs them."""

    def __init__(self, port, region, key_id, secret):
        self.port, self.region, self.key_id, self.secret = port, region, key_id, secret

    def call(self, operation, body, expect_ok=True):
        payload = json.dumps(body).encode()
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        host = f"127.0.0.1:{self.port}"
        headers = {"content-type": "application/x-amz-json-1.1", "host": host, "x-amz-date": amz_date,
                   "x-amz-target": ECR_TARGET + operation}
        signed = ";".join(sorted(headers))
        canonical = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed,
                               hashlib.sha256(payload).hexdigest()])
        scope = f"{day}/{self.region}/ecr/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "ecr", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, SignedHeaders={signed}, "
                                    f"Signature={hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()}")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("POST", "/", body=payload, headers=headers)
        r = c.getresponse(); data = r.read(); c.close()
        result = json.loads(data) if data else {}
        if expect_ok and r.status != 200:
            sys.exit(f"{operation} on port {self.port}: {r.status} {data[:500]!r}")
        return r.status, result

    def basic_auth(self):
        _, token = self.call("GetAuthorizationToken", {})
        return base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()


# --------------------------------------------------------------------------------------------- Wharfs

class Wharf:
    """One Wharf process: `wharf serve` of the Release build, its own data directory and port, rate limits
    far above what the bench sends (their cost is in the figures; nothing is throttled)."""

    def __init__(self, dll, work, name, auth, region, settings=None):
        self.dll, self.name, self.auth, self.region = dll, name, auth, region
        self.data = os.path.join(work, name); os.makedirs(self.data, exist_ok=True)
        self.port = free_port()
        limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read", "Write", "Token")
                  for k in ("RequestsPerSecond", "Burst")}
        self.env = dict(os.environ, Logging__LogLevel__Default="Warning", WHARF__Registry__DefaultAccount=ACCOUNT,
                        WHARF__Registry__DefaultRegion=region, **limits, **(settings or {}))
        self.log = open(os.path.join(work, f"{name}.log"), "ab")
        self.proc = subprocess.Popen(["dotnet", dll, "serve", "--port", str(self.port), "--public-port", "0", "--data-dir", self.data, "--auth", auth],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        wait_http(self.port, "/health/ready", proc=self.proc)
        self.key_id = self.secret = "bench"
        if auth == "iam":
            creds = dict(line.split(" = ", 1) for line in open(os.path.join(self.data, "root-credentials")).read().splitlines() if " = " in line)
            self.key_id, self.secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
        self.ecr = Ecr(self.port, region, self.key_id, self.secret)

    def cli(self, *args, stdin=None):
        """A `wharf` command on this Wharf's data directory and settings."""
        return subprocess.run(["dotnet", self.dll, *args, "--data-dir", self.data], env=self.env, capture_output=True, text=True, input=stdin)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill(); self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------------------------------ measuring

class Destination:
    """Watches the destination (directly, not through the proxy) until every image is there by tag with
    the source's digest."""

    def __init__(self, wharf):
        self.wharf = wharf
        self.auth = "Basic " + base64.b64encode(wharf.ecr.basic_auth().encode()).decode()

    def missing(self, images, by_tag=True, first_only=False):
        """The images not (yet) at the destination; with `first_only`, stops at the first one missing, so
        that polling while the copy runs costs one request, not a hundred, each time."""
        c = http.client.HTTPConnection("127.0.0.1", self.wharf.port, timeout=30)
        try:
            for n, image in enumerate(images):
                if not self.has(c, image, by_tag):
                    return images[n:] if first_only else [image] + [i for i in images[n + 1:] if not self.has(c, i, by_tag)]
            return []
        finally:
            c.close()

    def has(self, c, image, by_tag):
        c.request("HEAD", f"/v2/{image['repo']}/manifests/{image['tag'] if by_tag else image['digest']}",
                  headers={"Authorization": self.auth, "Accept": OCI_MANIFEST})
        r = c.getresponse(); r.read()
        return r.status == 200 and r.getheader("Docker-Content-Digest") == image["digest"]


def measure(run, proxy, images, wharf):
    """Runs `run()` and returns the wall time, the bytes through the proxy each way, the connections,
    the CPU seconds of the source and the destination Wharf and of child processes, and the machine's
    busy cores."""
    proxy.reset(wharf["destination"].port)
    cpu0 = {k: w.cpu() for k, w in wharf.items()}
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = machine_busy()
    load = os.getloadavg()[0]
    start = time.monotonic()
    extra = run() or {}
    seconds = time.monotonic() - start
    for mark in [k for k in extra if k.endswith("_at")]:
        extra[mark[:-3] + "_seconds"] = extra.pop(mark) - start
    busy1, total1 = machine_busy()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    up, down, connections = proxy.counts()
    return dict(seconds=seconds, load=load, up=up, down=down, connections=connections,
                cpu={k: w.cpu() - cpu0[k] for k, w in wharf.items()},
                client_cpu=(children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime),
                bench_cpu=(self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime),
                cores=os.cpu_count() * (busy1 - busy0) / max(1e-9, total1 - total0), **extra)


def skopeo_copy(source, proxy_port, destination, images, parallel):
    """`skopeo copy` of every image from the source to the destination through the proxy, with the
    destination's ECR token; `parallel` copies at a time (1: one after the other, as a script would)."""
    creds = destination.ecr.basic_auth()
    def copy(image):
        ref = f"{image['repo']}:{image['tag']}"
        p = subprocess.run(["skopeo", "copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
                            "--dest-creds", creds, f"docker://127.0.0.1:{source.port}/{ref}", f"docker://127.0.0.1:{proxy_port}/{ref}"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"skopeo copy {ref}: {p.stderr.strip()}")
    queue = list(images.images); lock = threading.Lock()
    def worker():
        while True:
            with lock:
                if not queue:
                    return
                image = queue.pop(0)
            copy(image)
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads: t.start()
    for t in threads: t.join()


def wait_replicated(source, destination, images, timeout, by_tag):
    """Polls the destination every 0.1 s until every image is there with its digest, then the source's
    DescribeImageReplicationStatus until every image is COMPLETE for the remote region. Fails on FAILED.
    Each poll stops at the first image not yet there, so watching costs little CPU beside the copy."""
    watch = Destination(destination)
    end = time.monotonic() + timeout
    def wait(pending, left, what):
        while pending:
            pending = left(pending)
            if not pending:
                break
            if time.monotonic() > end:
                sys.exit(f"{len(pending)} images not {what} after {timeout} s, e.g. {pending[0]['repo']}@{pending[0]['digest']}")
            time.sleep(0.1)
    wait(list(images.images), lambda p: watch.missing(p, by_tag, first_only=True), "at the destination")
    present_at = time.monotonic()
    def not_complete(pending):
        for n, image in enumerate(pending):
            _, status = source.ecr.call("DescribeImageReplicationStatus",
                                        {"repositoryName": image["repo"], "imageId": {"imageDigest": image["digest"]}})
            remote = [s for s in status.get("replicationStatuses", []) if s.get("region") == REMOTE_REGION]
            if remote and remote[0].get("status") == "FAILED":
                sys.exit(f"replication of {image['repo']}@{image['digest']} FAILED: {remote[0]}")
            if not remote or remote[0].get("status") != "COMPLETE":
                return pending[n:]
        return []
    wait(list(images.images), not_complete, "COMPLETE")
    return {"present_at": present_at}


def verify(destination, images, what, by_tag=True):
    missing = Destination(destination).missing(images.images, by_tag)
    if missing:
        sys.exit(f"{what}: {len(missing)} images missing or with another digest at the destination, e.g. {missing[0]['repo']}:{missing[0]['tag']}")


# ------------------------------------------------------------------------------------------- the run

def fmt(v, digits=1):
    return f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--pool", type=int, default=20, help="shared base layers the lower half of each image is drawn from")
    ap.add_argument("--repositories", type=int, default=10)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--parallel", default="1,4", help="skopeo baselines: copies at a time in each (the first is the one the target is judged against)")
    ap.add_argument("--only", choices=["skopeo", "replication"], help="one side only (to test the harness)")
    ap.add_argument("--trigger", choices=["backfill", "api", "repush"], default="backfill",
                    help="how replication of the images already on the source starts: `wharf replication backfill`, "
                         "PutReplicationConfiguration with wharfBackfill, or each manifest pushed again under a second tag")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, data) afterwards")
    ap.add_argument("--out")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="wharf-bench-replication-")
    running = []
    try:
        t = time.monotonic()
        images = ImageSet(args.images, args.layers, args.pool, args.repositories, args.seed)
        say(f"generated {args.images} images, {len(images.blobs)} distinct blobs, {images.unique_bytes / 1e6:.1f} MB unique in {time.monotonic() - t:.1f} s")
        proxy = CountingProxy()
        source = Wharf(args.wharf_dll, work, "source", "open", SOURCE_REGION, remote_settings(proxy.port))
        running.append(source)
        t = time.monotonic()
        push(source.port, images)
        say(f"pushed to the source in {time.monotonic() - t:.1f} s")
        results = {}
        load = os.getloadavg()
        parallel = [int(n) for n in args.parallel.split(",")] if args.only != "replication" else []
        sides = [f"skopeo-{n}" for n in parallel] + (["replication"] if args.only != "skopeo" else [])
        for side in sides:
            destination = Wharf(args.wharf_dll, work, f"destination-{side}", "iam", REMOTE_REGION)
            running.append(destination)
            wharfs = {"source": source, "destination": destination}
            if side.startswith("skopeo"):
                n = int(side.split("-")[1])
                results[side] = measure(lambda: skopeo_copy(source, proxy.port, destination, images, n), proxy, images, wharfs)
            else:
                remote_credentials(source, destination)
                timings = {}
                start_replication = replication_starter(source, images, args.trigger, timings)
                results[side] = measure(lambda: (start_replication(), {**wait_replicated(source, destination, images, args.timeout, args.trigger != "repush"), **timings})[1],
                                        proxy, images, wharfs)
            verify(destination, images, side, side != "replication" or args.trigger != "repush")
            destination.stop(); running.remove(destination)
            say(f"{side}: {results[side]['seconds']:.1f} s, {results[side]['up'] / 1e6:.1f} MB sent")
        text = report(args, images, results, load, parallel)
        print(text)
        if args.out:
            open(args.out, "w").write(text + "\n")
    finally:
        for w in running:
            w.stop()
        if args.keep:
            say(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def remote_settings(proxy_port):
    """The source's settings that make REMOTE_REGION a remote region served by the Wharf behind the proxy."""
    return {"WHARF__Replication__Regions__" + REMOTE_REGION + "__Endpoint": f"http://127.0.0.1:{proxy_port}",
            "WHARF__Replication__Regions__" + REMOTE_REGION + "__Kind": "wharf"}


def remote_credentials(source, destination):
    """Gives the source the destination's root access key for the remote region (not timed)."""
    p = source.cli("replication", "credentials", "set", REMOTE_REGION, "--access-key-id", destination.key_id, stdin=destination.secret + "\n")
    if p.returncode != 0:
        sys.exit(f"wharf replication credentials set: {p.stdout}{p.stderr}")


def replication_starter(source, images, trigger, timings):
    """Returns what starts the copy of the images already pushed to the source (the timed part): the
    replication rule on the source, with Wharf's `wharfBackfill` member (trigger "api"), or then
    `wharf replication backfill` (trigger "backfill"), or every
    manifest pushed again under a second tag (trigger "repush": replication, as ECR's, copies what is
    pushed after the configuration, and a PUT of a manifest and tag the repository already has changes
    nothing, so records no push; the destination gets the image under the new tag)."""
    def start():
        request = {"replicationConfiguration": {"rules": [
            {"destinations": [{"region": REMOTE_REGION, "registryId": ACCOUNT}],
             "repositoryFilters": [{"filter": "bench/", "filterType": "PREFIX_MATCH"}]}]}}
        if trigger == "api":
            request["wharfBackfill"] = True
        _, answer = source.ecr.call("PutReplicationConfiguration", request)
        if trigger == "api" and answer.get("wharfBackfill") != "REQUESTED":
            sys.exit(f"PutReplicationConfiguration with wharfBackfill answered {answer}")
        timings["configured_at"] = time.monotonic()
        if trigger == "backfill":
            p = source.cli("replication", "backfill")
            timings["armed_at"] = time.monotonic()
            if p.returncode != 0:
                sys.exit(f"wharf replication backfill: {p.stdout}{p.stderr}")
        elif trigger == "repush":
            c = http.client.HTTPConnection("127.0.0.1", source.port, timeout=60)
            for image in images.images:
                c.request("PUT", f"/v2/{image['repo']}/manifests/{image['tag']}-again", body=image["manifest"], headers={"Content-Type": OCI_MANIFEST})
                r = c.getresponse(); body = r.read()
                if r.status != 201:
                    sys.exit(f"push of manifest {image['repo']}:{image['tag']}-again to the source: {r.status} {body[:300]!r}")
            c.close()
    return start


def report(args, images, results, load, parallel):
    lines = [
        f"{args.images} images × {args.layers} layers ({args.layers // 2} drawn from {args.pool} shared base layers of 1–4 MiB, "
        f"{args.layers - args.layers // 2} of the image's own of 128 KiB–1 MiB) in {args.repositories} repositories: "
        f"{len(images.blobs)} distinct blobs; unique bytes {images.unique_bytes / 1e6:,.1f} MB "
        f"(blobs {images.unique_blob_bytes / 1e6:,.1f} MB + manifests {images.manifest_bytes / 1e3:,.1f} kB); "
        f"every image whole, no blob skipped: {images.naive_bytes / 1e6:,.1f} MB.",
        f"Load average before the measurements: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores.",
        "",
    ]
    def copies(n):
        return "skopeo copy, one at a time" if n == 1 else f"skopeo copy, {n} at once"
    r = results.get("replication")
    baselines = [(copies(n), results.get(f"skopeo-{n}")) for n in parallel]
    lines.append("| " + " | ".join(["metric", "replication to the remote region"] + [name for name, _ in baselines]
                                    + [f"replication ÷ {name}" for name, _ in baselines] + ["target", ""]) + " |")
    lines.append("|---|---:|" + "---:|" * (2 * len(baselines)) + "---|---|")
    def row(metric, f, digits=1, target="", judge=None):
        a = f(r) if r else None
        bs = [f(b) if b else None for _, b in baselines]
        values = [fmt(v, digits) if v is not None else "—" for v in [a] + bs]
        ratios = [f"{a / b:.2f}" if a is not None and b else "" for b in bs]
        # Judged against the first baseline: the plain one, one copy after the other.
        verdict = "" if judge is None or a is None else {True: "PASS", False: "MISS", None: ""}[judge(a, bs[0] if bs else None)]
        lines.append(f"| {metric} | " + " | ".join(values + ratios) + f" | {target} | {verdict} |")
    row("time (s): replication until every status is COMPLETE, skopeo until its last copy ends", lambda x: x["seconds"],
        target=f"≤ {copies(parallel[0])}" if parallel else "≤ skopeo copy", judge=lambda a, b: None if b is None else a <= b)
    if r:
        blank = " |" * (2 * len(baselines) + 2)
        lines.append(f"| … of which: configuration (and backfill command) done / every image at the destination (s) | "
                     f"{fmt(r.get('armed_seconds', r['configured_seconds']))} / {fmt(r['present_seconds'])} |{blank}")
    row("bytes sent to the destination (MB)", lambda x: x["up"] / 1e6)
    row("bytes sent ÷ unique bytes", lambda x: x["up"] / images.unique_bytes, digits=3,
        target="= unique bytes (≤ 1.01: HTTP requests around them)", judge=lambda a, b: a <= 1.01)
    row("throughput, unique MB ÷ time (MB/s)", lambda x: images.unique_bytes / 1e6 / x["seconds"])
    row("bytes received from the destination (MB)", lambda x: x["down"] / 1e6, digits=2)
    row("TCP connections to the destination", lambda x: x["connections"], digits=0)
    row("source Wharf CPU (s)", lambda x: x["cpu"]["source"])
    row("destination Wharf CPU (s)", lambda x: x["cpu"]["destination"])
    row("client CPU: skopeo / `wharf replication` commands (s)", lambda x: x["client_cpu"])
    row("the bench's own CPU: the proxy, and for replication the polling (s)", lambda x: x["bench_cpu"])
    row("cores busy, whole machine", lambda x: x["cores"], digits=2)
    row("load average (1 min) at the start", lambda x: x["load"], digits=2)
    lines.append("")
    lines.append("Replication's time runs from PutReplicationConfiguration (" + {"backfill": "then `wharf replication backfill`", "api": "with `wharfBackfill`",
                                                                           "repush": "then each manifest pushed again under a second tag"}[args.trigger]
                 + ") until DescribeImageReplicationStatus says COMPLETE for every image (the source copies up to `Replication:Concurrency`, 4 by default, images at once); "
                 "skopeo's from the first copy's start to the last one's end.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
