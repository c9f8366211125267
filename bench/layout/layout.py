"""The Native AOT executable's code layout (issue 19, target 4; bench/RESULTS.md, "Idle memory — session 42").

The kernel maps a file's pages 64 KiB at a time around each first touch (fault-around), so a start that runs a few
thousand methods spread over the executable's 21 MB of managed code keeps most of it resident. The native compiler
places the methods named in an order file (`IlcOrderFile`, src/Wharf.Server/wharf.order) first, in that order; this
writes that file: every managed method that a start and the usual requests run, in the order the compiler placed
them without one.

    layout.py PUBLISH_DIR [--out src/Wharf.Server/wharf.order]

PUBLISH_DIR is a Native AOT publish with its symbols (wharf.dbg). The executable runs under valgrind's callgrind,
which records every function that runs, four times: SQLite in open mode (start, pushes monolithic and chunked,
manifests and tags, pulls whole and ranged, listings, the idle trim), the same with blobs in plaintext (the sendfile
path), IAM mode (users, keys, a token, authorised requests) and PostgreSQL. Names the compiler no longer makes are
skipped by it, and methods the trace did not see go after the listed ones, as before: an old file costs locality,
never correctness. Regenerate it after large changes (bench/README.md)."""
import argparse, hashlib, os, re, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b

# valgrind refuses the 256 GiB the GC reserves for its regions by default (hex, as the runtime reads it).
ENV = {"DOTNET_GCRegionRange": "40000000"}


def symbolised_copy(publish, work):
    """The publish's files beside a copy of wharf.dbg without its DWARF (valgrind 3.19 cannot read the DWARF 5 the
    native linker writes, and gives up on the file), the executable's debug link pointed at it: valgrind then
    names every function."""
    out = os.path.join(work, "exe"); os.makedirs(out)
    for name in os.listdir(publish):
        if name != "wharf.dbg" and os.path.isfile(os.path.join(publish, name)):
            shutil.copy2(os.path.join(publish, name), out)
    subprocess.run(["objcopy", "--strip-debug", os.path.join(publish, "wharf.dbg"), os.path.join(out, "wharf.dbg")], check=True)
    subprocess.run(["objcopy", "--remove-section=.gnu_debuglink", "--add-gnu-debuglink=wharf.dbg", "wharf"], cwd=out, check=True)
    return os.path.join(out, "wharf")


def exercise(srv, push=True):
    """What the bench and a client do: pushes, manifests and tags, pulls whole and ranged, listings (with
    srv.auth on every request, when set)."""
    c = srv.conn()
    hdr = {"Accept": b.OCI_MANIFEST}
    layer_digest = b.push_small_image(srv, "bench/app", [f"t{i}" for i in range(60)] + ["latest"]) if push else \
        "sha256:" + hashlib.sha256(b.small_image()[0]).hexdigest()
    size = 3 * b.MIB
    digest, chunked = b.blob_digest(7, size), b.blob_digest(8, size)
    if push:
        b.push_monolithic(srv, "bench/big", 7, digest, size)
        loc = b.start_upload(c, "bench/big")
        for off in range(0, size, b.MIB):
            r, _ = b.request(c, "PATCH", loc, b"".join(b.blob_chunks(8, off, b.MIB)),
                             {"Content-Type": "application/octet-stream", "Content-Range": f"{off}-{off + b.MIB - 1}"}, (202,))
            loc = re.sub(r"^https?://[^/]+", "", r.getheader("Location"))
        b.request(c, "PUT", f"{loc}{'&' if '?' in loc else '?'}digest={chunked}", b"", {"Content-Length": "0"}, (201,))
    for i in range(20):
        b.request(c, "GET", f"/v2/bench/app/manifests/{'latest' if i % 2 else 't1'}", headers=hdr, expect=(200,))
        b.request(c, "HEAD", "/v2/bench/app/manifests/t2", headers=hdr, expect=(200,))
        b.request(c, "GET", "/v2/bench/app/tags/list", expect=(200,))
        b.request(c, "GET", "/v2/bench/app/tags/list?n=10&last=t5", expect=(200,))
        b.request(c, "GET", f"/v2/bench/app/blobs/{layer_digest}", expect=(200,))
        b.request(c, "HEAD", f"/v2/bench/app/blobs/{layer_digest}", expect=(200,))
        b.request(c, "GET", f"/v2/bench/big/blobs/{digest}", expect=(200,))
        b.request(c, "GET", f"/v2/bench/big/blobs/{chunked}", headers={"Range": f"bytes={i * 4099}-{i * 4099 + b.MIB}"}, expect=(206,))
        b.request(c, "HEAD", f"/v2/bench/big/blobs/{digest}", expect=(200,))
        b.request(c, "GET", "/v2/_catalog?n=10", expect=(200,))
        b.request(c, "GET", "/v2/", expect=(200,))
    c.close()
    # Pulls with Connection: close, as the bench reads them (the sendfile path ends each with the socket's close).
    b.pull(srv, "bench/big", digest, size, 1)
    b.pull(srv, "bench/big", chunked, size, 4)


def traced(exe, work, name, argv_tail, env, workload, linger=0.0):
    """Runs the executable under callgrind with this workload; returns the set of function names it ran."""
    out = os.path.join(work, f"{name}.callgrind")
    port = b.free_port()
    data = os.path.join(work, f"{name}-data")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no", "--compress-strings=no",
            "--compress-pos=no", exe, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, *argv_tail]
    log = open(os.path.join(work, f"{name}.log"), "w")
    srv = b.Server(name, argv, port, b.wharf_env(dict(ENV, **env)), ready=(200, 401), log=log, timeout=600)
    srv.data = data
    try:
        workload(srv)
        time.sleep(linger)
    finally:
        srv.proc.send_signal(signal.SIGTERM)  # a clean stop: callgrind writes its file at exit
        srv.proc.wait(timeout=300)
    names, ob = set(), None
    with open(out, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                ob = line[3:].strip()
            elif line.startswith("fn=") and (ob == exe or ob == "???"):
                names.add(line[3:].strip().split("'")[0])
    print(f"{name}: {len(names):,} functions", file=sys.stderr)
    return names


def managed_code(exe, dbg):
    """(name -> address) of every method in the executable's managed code section."""
    section = None
    for line in subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.search(r"\]\s+__managedcode\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            section = (int(m.group(1), 16), int(m.group(2), 16))
    if section is None:
        sys.exit(f"{exe}: no __managedcode section (not a Native AOT executable?)")
    start, size = section
    found = {}
    for line in subprocess.run(["nm", dbg], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tT":
            address = int(parts[0], 16)
            if start <= address < start + size:
                found.setdefault(parts[2], address)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("publish", help="a Native AOT publish directory with wharf.dbg")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "Wharf.Server", "wharf.order"))
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.publish, "wharf.dbg")):
        sys.exit(f"{args.publish}: no wharf.dbg (publish without deleting the symbols)")
    work = tempfile.mkdtemp(prefix="wharf-layout-")
    pg = None
    try:
        exe = symbolised_copy(args.publish, work)
        ran = set()
        ran |= traced(exe, work, "sqlite", ["--auth", "open"], {}, exercise, linger=14)  # past the idle trim (10 s)
        ran |= traced(exe, work, "plaintext", ["--auth", "open"], {"WHARF__Encryption__Enabled": "false"}, exercise)

        def iam(srv):
            root, user = b.iam_user(srv)
            srv.auth = root  # creates the repositories (the power-user policy may not)
            exercise(srv)
            srv.auth = user  # then reads as the bench's IAM rows do
            exercise(srv, push=False)
        ran |= traced(exe, work, "iam", ["--auth", "iam"], {}, iam)
        pg = b.Postgres(work)
        ran |= traced(exe, work, "postgres", ["--auth", "open", "--metadata", "postgres", "--metadata-connection", pg.database("layout")], {}, exercise)
        methods = managed_code(exe, os.path.join(os.path.dirname(exe), "wharf.dbg"))
        placed = sorted((methods[n], n) for n in ran if n in methods)
        with open(args.out, "w") as f:
            f.writelines(n + "\n" for _, n in placed)
        print(f"{args.out}: {len(placed):,} methods of {len(methods):,}", file=sys.stderr)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
