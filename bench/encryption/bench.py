#!/usr/bin/env python3
"""The cost of encryption at rest, side by side: Wharf with blobs sealed (the default) against Wharf with sealing
turned off, on the blob rows of bench/run (push monolithic, push in 16 MiB PATCHes, pull with 1 stream and with 8
ranged streams), both servers running and warm, in paired runs back to back with the order alternating, so drift
on a busy machine hits both alike. Driven by bench/encryption/run; standard library only; reuses bench/bench.py's
client code (the generated blobs, the upload requests, the recv_into pull loop)."""
import argparse, hashlib, mmap, os, re, shutil, statistics, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402

MIB = 1 << 20
TARGET = 0.90
# The setting that turns sealing off (docs/encryption.md); everything else is the same on both servers.
SEALING_OFF = {"WHARF__Encryption__Enabled": "false"}


def digest_of(seed, size):
    h = hashlib.sha256()
    for block in b.blob_chunks(seed, 0, size):
        h.update(block)
    return "sha256:" + h.hexdigest()


def push_monolithic(srv, repo, seed, digest, size):
    """POST, then one PUT ?digest= with the whole body (bench/bench.py's push, for any size)."""
    c = srv.conn()
    start = time.perf_counter()
    loc = b.start_upload(c, repo)
    c.putrequest("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}")
    c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(size)); c.endheaders()
    for block in b.blob_chunks(seed, 0, size):
        c.send(block)
    r = c.getresponse(); body = r.read()
    elapsed = time.perf_counter() - start
    c.close()
    if r.status != 201:
        sys.exit(f"{srv.name} monolithic push -> {r.status} {body[:300]!r}")
    return size / elapsed / 1e6


def push_chunked(srv, repo, seed, digest, size, chunk):
    """POST, PATCHes of `chunk` bytes with Content-Range, then PUT ?digest= with no body."""
    c = srv.conn()
    start = time.perf_counter()
    loc = b.start_upload(c, repo)
    for off in range(0, size, chunk):
        n = min(chunk, size - off)
        c.putrequest("PATCH", re.sub(r"^https?://[^/]+", "", loc))
        c.putheader("Content-Type", "application/octet-stream"); c.putheader("Content-Length", str(n))
        c.putheader("Content-Range", f"{off}-{off + n - 1}"); c.endheaders()
        for block in b.blob_chunks(seed, off, n):
            c.send(block)
        r = c.getresponse(); body = r.read()
        if r.status != 202:
            sys.exit(f"{srv.name} PATCH -> {r.status} {body[:300]!r}")
        loc = r.getheader("Location")
    path = re.sub(r"^https?://[^/]+", "", loc)
    b.request(c, "PUT", f"{path}{'&' if '?' in path else '?'}digest={digest}", b"", {"Content-Length": "0"}, (201,))
    elapsed = time.perf_counter() - start
    c.close()
    return size / elapsed / 1e6


def verify_pull(srv, repo, digest):
    """The whole blob pulled and hashed (not timed): a figure for a server that returns wrong bytes means nothing."""
    c = srv.conn()
    c.request("GET", f"/v2/{repo}/blobs/{digest}")
    r = c.getresponse()
    h = hashlib.sha256()
    while chunk := r.read(MIB):
        h.update(chunk)
    c.close()
    if r.status != 200 or "sha256:" + h.hexdigest() != digest:
        sys.exit(f"{srv.name}: GET of {digest} answered {r.status} with bytes hashing to sha256:{h.hexdigest()}")


def holds_plaintext(directory, needle):
    """Whether any file under `directory` contains `needle` (a 64-byte run of a pushed blob)."""
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.path.getsize(path) < len(needle):
                    continue
                with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    if m.find(needle) >= 0:
                        return True
            except (OSError, ValueError):
                continue
    return False


def machine_busy_seconds():
    """Seconds of CPU the whole machine has spent busy (every core; servers, client and kernel alike): /proc/stat."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def start(args, work, sealed):
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
    env = dict(os.environ, Logging__LogLevel__Default="Warning", **limits, **({} if sealed else SEALING_OFF))
    data = os.path.join(work, "sealed" if sealed else "plain")
    port = b.free_port()
    srv = b.Server("Wharf " + ("sealed" if sealed else "plain"),
                   ["dotnet", args.wharf_dll, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "open"], port, env)
    srv.data = data
    return srv


ROWS = ("push monolithic", "push chunked", "pull, 1 stream", "pull, 8 ranged streams")


def paced_pull(srv, repo, digest, size, rate):
    """One GET of the blob read no faster than `rate` bytes per second (bench.read_response's pacing); returns MB/s."""
    import socket
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b.get_request(srv, f"/v2/{repo}/blobs/{digest}"))
    status, _, got = b.read_response(s, srv.name, rate=rate)
    if status != 200 or got != size:
        sys.exit(f"{srv.name}: paced pull -> {status}, {got} of {size} bytes")
    return size / (time.perf_counter() - start) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--mib", type=int, default=512, help="blob size (default 512 MiB)")
    ap.add_argument("--chunk-mib", type=int, default=16, help="PATCH size of the chunked push (default 16 MiB)")
    ap.add_argument("--rounds", type=int, default=5, help="paired runs per row; medians are reported (default 5)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured pushes and pulls per server first (default 2)")
    ap.add_argument("--link-gbit", type=float, default=10, help="also pull with the client paced to a link this fast, in Gbit/s (default 10; 0: skip)")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    size, chunk = args.mib * MIB, args.chunk_mib * MIB
    work = tempfile.mkdtemp(prefix="wharf-encryption-bench-")
    servers = []
    try:
        # Every push is a blob that server has not seen (a repeated digest would let it skip the write); both
        # servers receive the same blobs. Seed 1 is the blob the pulls read.
        seeds = [1] + [10 + i for i in range(args.warmup)] + [100 + i for i in range(2 * args.rounds)]
        digests = {seed: digest_of(seed, size) for seed in seeds}
        sealed = start(args, work, True)
        servers.append(sealed)
        plain = start(args, work, False)
        servers.append(plain)
        pair = (sealed, plain)

        for srv in pair:
            push_monolithic(srv, "bench/pull", 1, digests[1], size)
            verify_pull(srv, "bench/pull", digests[1])
        # The run proves what it compares: the sealed server's files hold none of the blob's bytes, the plain one's do.
        needle = next(b.blob_chunks(1, 0, min(64, size)))
        if holds_plaintext(sealed.data, needle):
            sys.exit("the sealed server's data directory holds the pushed blob in plaintext: sealing is not on")
        if not holds_plaintext(plain.data, needle):
            sys.exit(f"the plain server's data directory does not hold the pushed blob: {SEALING_OFF} did not turn sealing off")

        # Warm both up (tiered compilation settles under load), alternating so both see the same machine.
        for i in range(args.warmup):
            for srv in pair:
                push_monolithic(srv, "bench/warm", 10 + i, digests[10 + i], size)
                b.pull(srv, "bench/pull", digests[1], size, 1)
                b.pull(srv, "bench/pull", digests[1], size, 8)

        results = {row: ([], []) for row in ROWS}
        cpu = {(srv.name, kind): 0.0 for srv in pair for kind in ("push", "pull", "link")}
        machine = {(srv.name, kind): 0.0 for srv in pair for kind in ("push", "pull", "link")}
        link = args.link_gbit * 1e9 / 8
        link_row = f"pull, 1 stream, client paced to {args.link_gbit:g} Gbit/s"
        if link:
            results[link_row] = ([], [])

        def measured(srv, kind, run):
            before, busy = b.cpu_seconds(srv.pid), machine_busy_seconds()
            figure = run()
            cpu[(srv.name, kind)] += b.cpu_seconds(srv.pid) - before
            machine[(srv.name, kind)] += machine_busy_seconds() - busy
            return figure

        for i in range(args.rounds):
            mono, chunked = 100 + 2 * i, 101 + 2 * i
            for srv in (pair if i % 2 == 0 else pair[::-1]):
                side = 0 if srv is sealed else 1
                results["push monolithic"][side].append(measured(srv, "push", lambda: push_monolithic(srv, "bench/mono", mono, digests[mono], size)))
            for srv in (pair if i % 2 == 1 else pair[::-1]):
                side = 0 if srv is sealed else 1
                results["push chunked"][side].append(measured(srv, "push", lambda: push_chunked(srv, "bench/chunked", chunked, digests[chunked], size, chunk)))
            for streams, row in ((1, "pull, 1 stream"), (8, "pull, 8 ranged streams")):
                for srv in (pair if i % 2 == 0 else pair[::-1]):
                    side = 0 if srv is sealed else 1
                    results[row][side].append(measured(srv, "pull", lambda: b.pull(srv, "bench/pull", digests[1], size, streams)))
            if link:
                for srv in (pair if i % 2 == 1 else pair[::-1]):
                    side = 0 if srv is sealed else 1
                    results[link_row][side].append(measured(srv, "link", lambda: paced_pull(srv, "bench/pull", digests[1], size, link)))

        for srv in pair:
            verify_pull(srv, "bench/mono", digests[100])

        moved = args.rounds * 2 * size / 1e9
        lines = [f"Blobs of {args.mib} MiB ({args.chunk_mib} MiB PATCHes for the chunked push); both servers warm ({args.warmup} unmeasured "
                 f"pushes and pulls each), then {args.rounds} paired runs per row, sealed and plain back to back with the order "
                 "alternating; medians, and the median of the pairs' ratios. Sealed = the default settings; plain = "
                 f"{', '.join(f'{k}={v}' for k, v in SEALING_OFF.items())}. Every pulled byte is checked against its digest "
                 "before and after, and the sealed server's files hold none of the blob's bytes.", "",
                 "| row | sealed (MB/s) | plain (MB/s) | sealed ÷ plain (median of pairs) | target | |", "|---|---:|---:|---:|---|---|"]
        verdicts = []
        for row in ROWS:
            s_list, p_list = results[row]
            ratio = statistics.median(x / y for x, y in zip(s_list, p_list) if y)
            verdict = "PASS" if ratio >= TARGET else "MISS"
            verdicts.append(verdict)
            lines.append(f"| {row} {args.mib} MiB | {statistics.median(s_list):,.1f} | {statistics.median(p_list):,.1f} | {ratio:.3f} | ≥ {TARGET:.2f} | {verdict} |")
        for kind in ("push", "pull"):
            s, p = cpu[(sealed.name, kind)], cpu[(plain.name, kind)]
            lines.append(f"| Wharf CPU per GB, {kind} rows (s) | {s / moved:.2f} | {p / moved:.2f} | {s / p if p else float('inf'):.3f} | | |")
        if link:
            # Where the link, not the cores, is the limit (a client on another machine): the same pull, read at the
            # link's speed. Reported beside the rows above, not instead of them.
            s_list, p_list = results[link_row]
            ratio = statistics.median(x / y for x, y in zip(s_list, p_list) if y)
            lines.append(f"| {link_row} ({link / 1e6:,.0f} MB/s), {args.mib} MiB | {statistics.median(s_list):,.1f} | {statistics.median(p_list):,.1f} | {ratio:.3f} | reported | |")
            s, p = cpu[(sealed.name, "link")], cpu[(plain.name, "link")]
            lines.append(f"| Wharf CPU per GB, paced pulls (s) | {s / (moved / 2):.2f} | {p / (moved / 2):.2f} | {s / p if p else float('inf'):.3f} | | |")
        # The cipher's own cost, from the libcrypto .NET's AesGcm calls: what no reader or writer of a sealed blob can
        # avoid. Where the machine's cores are the limit (8 streams on a small machine), the best sealed ÷ plain is
        # the plain row's machine CPU per GB over that plus the cipher's.
        aes = b.aes_gcm_rate()
        if aes:
            aes_cost = 1e3 / aes
            lines.append(f"| AES-256-GCM alone, `openssl speed -evp aes-256-gcm` on 64 KiB (CPU s per GB) | {aes_cost:.2f} | | | | |")
            for kind in ("push", "pull"):
                s, p = machine[(sealed.name, kind)] / moved, machine[(plain.name, kind)] / moved
                lines.append(f"| whole machine CPU per GB, {kind} rows (s; servers, client, kernel) | {s:.2f} | {p:.2f} | "
                             f"ceiling where cores are the limit: {p / (p + aes_cost):.3f} | | |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            with open(args.out, "w") as f:
                f.write(table + "\n")
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
