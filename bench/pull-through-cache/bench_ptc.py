#!/usr/bin/env python3
"""Pull-through cache: the first pull of an image through Wharf beside a direct pull of it from the upstream
(CNCF Distribution), and a cached pull beside a pull of the same image pushed into an ordinary Wharf
repository, in rounds, in one run, every pull a `skopeo copy` into a fresh OCI layout directory.
Driven by bench/pull-through-cache/run; standard library only. See bench/README.md ("Pull-through cache").

Each round starts Wharf on a new data directory (so the first pull finds nothing cached: not the
repository, not one blob) with a rule `up` → the Distribution upstream, then, in an order that alternates
between rounds: (a) direct, (b) first pull through Wharf; the image pushed into `local/app` (not timed);
(c) cached pull through Wharf, (d) the ordinary repository."""
import argparse, http.client, io, json, math, os, random, shutil, statistics, subprocess, sys, tarfile, tempfile, time, zlib

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_here, ".."), os.path.join(_here, "..", "s3"), os.path.join(_here, "..", "cluster"),
                os.path.join(_here, "..", "replication")]
from bench import cpu_seconds, free_port  # noqa: E402  (bench/bench.py)
from bench_s3 import machine_busy  # noqa: E402  (bench/s3/bench_s3.py)
from cluster import wait_http  # noqa: E402  (bench/cluster/cluster.py)
from bench_replication import CountingProxy, Wharf, sha, say, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, MiB  # noqa: E402

REGION = "us-east-1"
PREFIX = "up"
UPSTREAM_REPO = "bench/app"
TAG = "v1"


class Image:
    """One image of `layers` layers, `total` bytes of layers in all (sizes drawn 0.5–1.5× the mean, then
    scaled to the total), each a gzip'd tar of one file of random bytes: incompressible, so a layer's size is
    its size drawn. Deterministic for a seed. The shape `push` of bench_replication takes."""

    def __init__(self, layers, total, seed):
        rng = random.Random(seed)
        weights = [rng.uniform(0.5, 1.5) for _ in range(layers)]
        sizes = [int(total * w / sum(weights)) for w in weights]
        self.blobs = {}
        stack = []
        for k, size in enumerate(sizes):
            content = rng.randbytes(size)
            tar = io.BytesIO()
            with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as t:
                info = tarfile.TarInfo(f"layer{k}/data"); info.size = size; info.mtime = 0
                t.addfile(info, io.BytesIO(content))
            raw = tar.getvalue(); del content
            gz = zlib.compressobj(1, zlib.DEFLATED, 31)
            blob = gz.compress(raw) + gz.flush()
            self.blobs[sha(blob)] = blob
            stack.append((sha(blob), len(blob), sha(raw)))
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/app"]},
                             "rootfs": {"type": "layers", "diff_ids": [d for _, _, d in stack]}}, sort_keys=True).encode()
        self.blobs[sha(config)] = config
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
                               "layers": [{"mediaType": OCI_LAYER, "digest": d, "size": s} for d, s, _ in stack]}).encode()
        self.digest = sha(manifest)
        self.size = sum(len(b) for b in self.blobs.values()) + len(manifest)
        self.images = [{"repo": UPSTREAM_REPO, "tag": TAG, "digest": self.digest, "manifest": manifest,
                        "blobs": [sha(config)] + [d for d, _, _ in stack]}]

    def as_repo(self, repo):
        """The same image under another repository name (for the ordinary Wharf repository)."""
        clone = object.__new__(Image)
        clone.__dict__.update(self.__dict__)
        clone.images = [dict(self.images[0], repo=repo)]
        return clone


def push(port, image):
    """Pushes the image: each blob in a POST then one PUT with the whole body (Distribution 2.8 answers a
    POST with a body 202 and ignores it), then the manifest by tag."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    entry = image.images[0]
    for d in entry["blobs"]:
        c.request("POST", f"/v2/{entry['repo']}/blobs/uploads/"); r = c.getresponse(); r.read()
        location = r.getheader("Location")
        if r.status != 202 or not location:
            sys.exit(f"POST of an upload to port {port}: {r.status}")
        location = location.split("127.0.0.1:" + str(port), 1)[-1]
        c.request("PUT", location + ("&" if "?" in location else "?") + f"digest={d}", body=image.blobs[d],
                  headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse(); body = r.read()
        if r.status != 201:
            sys.exit(f"push of blob {d} to port {port}: {r.status} {body[:300]!r}")
    c.request("PUT", f"/v2/{entry['repo']}/manifests/{entry['tag']}", body=entry["manifest"], headers={"Content-Type": OCI_MANIFEST})
    r = c.getresponse(); body = r.read()
    if r.status != 201:
        sys.exit(f"push of manifest {entry['repo']}:{entry['tag']} to port {port}: {r.status} {body[:300]!r}")
    c.close()


class Distribution:
    """CNCF Distribution (`docker-registry serve`), anonymous, filesystem storage, on loopback."""

    def __init__(self, work):
        self.port = free_port()
        data = os.path.join(work, "distribution"); os.makedirs(data)
        cfg = data + ".yml"
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
                    f"    rootdirectory: {data}\nhttp:\n  addr: 127.0.0.1:{self.port}\n")
        self.log = open(os.path.join(work, "distribution.log"), "ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(self.port, proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill(); self.proc.wait()
        self.log.close()


def skopeo_pull(port, repo, work, name, expected):
    """`skopeo copy` of repo:TAG on port into a new OCI layout; the seconds it took. The layout's manifest
    must be the upstream's digest, or the run stops."""
    out = os.path.join(work, "pulls", name)
    shutil.rmtree(out, ignore_errors=True); os.makedirs(os.path.dirname(out), exist_ok=True)
    start = time.perf_counter()
    p = subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--src-no-creds",
                        f"docker://127.0.0.1:{port}/{repo}:{TAG}", f"oci:{out}:{TAG}"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"skopeo copy of {repo}:{TAG} from port {port}: {p.stderr.strip()}")
    got = json.load(open(os.path.join(out, "index.json")))["manifests"][0]["digest"]
    if got != expected:
        sys.exit(f"skopeo copy of {repo}:{TAG} from port {port} gave {got}, the upstream has {expected}")
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


class Meter:
    """Wall time of one pull, with the machine's busy cores and Wharf's CPU during it."""

    def __init__(self):
        self.samples = {k: [] for k in "abcd"}
        self.busy = {k: [0.0, 0.0] for k in "abcd"}
        self.wharf_cpu = {k: 0.0 for k in "abcd"}

    def run(self, side, wharf, f):
        (b0, _), w0 = machine_busy(), cpu_seconds(wharf.proc.pid)
        seconds = f()
        (b1, _), w1 = machine_busy(), cpu_seconds(wharf.proc.pid)
        self.samples[side].append(seconds)
        self.busy[side][0] += b1 - b0; self.busy[side][1] += seconds
        self.wharf_cpu[side] += w1 - w0
        say(f"  ({side}) {seconds:.2f} s")
        return seconds

    def cores(self, side):
        busy, elapsed = self.busy[side]
        return busy / elapsed if elapsed else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--mib", type=int, default=200, help="the image's layers in all (MiB)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, data) afterwards")
    ap.add_argument("--out")
    ap.add_argument("--link-mbps", type=float, default=100,
                    help="the upstream behind a link of this many MB/s shared by all connections, as a remote upstream is "
                         "(default 100); 0: plain loopback, where only CPU bounds a pull")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="wharf-bench-ptc-")
    running = []
    try:
        t = time.monotonic()
        image = Image(args.layers, args.mib * MiB, args.seed)
        say(f"generated one image of {args.layers} layers, {image.size / 1e6:.1f} MB, in {time.monotonic() - t:.1f} s")
        upstream = Distribution(work); running.append(upstream)
        push(upstream.port, image)
        link = None
        if args.link_mbps > 0:
            # Direct pulls and Wharf's fetches both reach the upstream through the link.
            link = CountingProxy(rate=args.link_mbps * 1e6); link.reset(upstream.port)
            upstream = link
        load = os.getloadavg()
        meter = Meter()
        settings = {"WHARF__PullThroughCache__AllowInsecureUpstreams": "true"}
        for n in range(args.rounds):
            say(f"round {n + 1}")
            # A new data directory: the first pull finds neither the repository nor any of its blobs.
            wharf = Wharf(args.wharf_dll, work, f"wharf-{n}", "open", REGION, settings); running.append(wharf)
            wharf.ecr.call("CreatePullThroughCacheRule", {"ecrRepositoryPrefix": PREFIX,
                                                          "upstreamRegistryUrl": f"http://127.0.0.1:{upstream.port}"})
            direct = lambda: meter.run("a", wharf, lambda: skopeo_pull(upstream.port, UPSTREAM_REPO, work, f"a{n}", image.digest))
            first = lambda: meter.run("b", wharf, lambda: skopeo_pull(wharf.port, f"{PREFIX}/{UPSTREAM_REPO}", work, f"b{n}", image.digest))
            for f in ((direct, first) if n % 2 == 0 else (first, direct)):
                f()
            push(wharf.port, image.as_repo("local/app"))
            cached = lambda: meter.run("c", wharf, lambda: skopeo_pull(wharf.port, f"{PREFIX}/{UPSTREAM_REPO}", work, f"c{n}", image.digest))
            normal = lambda: meter.run("d", wharf, lambda: skopeo_pull(wharf.port, "local/app", work, f"d{n}", image.digest))
            for f in ((cached, normal) if n % 2 == 0 else (normal, cached)):
                f()
            wharf.stop(); running.remove(wharf)
        link_bytes = link.counts()[1] if link else None
        text = report(args, image, meter, load, link_bytes)
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


def report(args, image, meter, load, link_bytes=None):
    med = {k: statistics.median(v) for k, v in meter.samples.items()}
    names = {"a": "(a) direct from Distribution", "b": "(b) first pull through Wharf",
             "c": "(c) cached pull through Wharf", "d": "(d) ordinary Wharf repository"}
    lines = [
        f"One image: {args.layers} layers, {image.size / 1e6:,.1f} MB (random bytes, gzip'd tars; seed {args.seed}); "
        f"{args.rounds} rounds, each on a new Wharf data directory; every pull `skopeo copy` to a new OCI layout.",
        ("The upstream behind a link of " + f"{args.link_mbps:g} MB/s shared by all connections (direct pulls and Wharf's fetches alike)."
         if args.link_mbps > 0 else "The upstream on plain loopback (no link between it and its clients)."),
        f"Load average before the measurements: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores.",
        "",
        "| pull | " + " | ".join(f"round {i + 1} (s)" for i in range(args.rounds)) + " | median (s) | MB/s | Wharf CPU (s/round) | cores busy |",
        "|---|" + "---:|" * (args.rounds + 4),
    ]
    for k in "abcd":
        lines.append(f"| {names[k]} | " + " | ".join(f"{s:.2f}" for s in meter.samples[k])
                     + f" | {med[k]:.2f} | {image.size / 1e6 / med[k]:,.1f} | "
                     + ("—" if k == "a" else f"{meter.wharf_cpu[k] / args.rounds:.2f}") + f" | {meter.cores(k):.2f} |")
    first = med["a"] / med["b"]
    cached = med["c"] / med["d"]
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        f"| first pull ≥ 90 % of direct speed: time(a) ÷ time(b) ≥ 0.90 | {first:.2f} | {'PASS' if first >= 0.90 else 'FAIL'} |",
        f"| cached pull = ordinary pull: time(c) ÷ time(d) ≤ 1.10 | {cached:.2f} | {'PASS' if cached <= 1.10 else 'FAIL'} |",
    ]
    if link_bytes is not None:
        # Pulls (a) and (b) cross the link once each per round; cached pulls (c) must not cross it at all.
        expected = 2 * args.rounds * image.size
        lines += ["", f"Bytes through the link: {link_bytes / 1e6:,.1f} MB for {2 * args.rounds} pulls of {image.size / 1e6:,.1f} MB "
                      f"(direct and first pulls): {link_bytes / expected:.3f} of one copy each."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
