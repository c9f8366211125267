#!/usr/bin/env python3
"""Manifest GET throughput through a round-robin balancer, with 1, 2 and 3 Wharf nodes on one
PostgreSQL. Driven by bench/cluster/run; standard library only.

Every node, the balancer (nginx), PostgreSQL and the load generator (wrk) run on this one machine, so
the table also gives each one's CPU share during the run: with N cores, the first to reach its share
of them is what stops the rps from growing."""
import argparse, hashlib, http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, time

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def tree(pid):
    """pid and every descendant (PostgreSQL's backends, nginx's workers)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children = {}
    pairs = [tuple(map(int, l.split())) for l in out.strip().splitlines()]
    for p, pp in pairs:
        children.setdefault(pp, []).append(p)
    result, todo = [], [pid]
    while todo:
        p = todo.pop(); result.append(p); todo += children.get(p, [])
    return result


def wait_http(port, path="/v2/", timeout=60, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path); r = c.getresponse(); r.read(); c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            sys.exit(f"process on port {port} exited during start")
        time.sleep(0.05)
    sys.exit(f"nothing answered on port {port}")


class Postgres:
    def __init__(self, work):
        self.dir = os.path.join(work, "pg"); os.makedirs(self.dir)
        self.bin = next(d for d in sorted(os.listdir("/usr/lib/postgresql"), reverse=True))
        self.bin = f"/usr/lib/postgresql/{self.bin}/bin"
        self.run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            subprocess.run(["chown", "nobody", self.dir], check=True)
        subprocess.run(self.run_as + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB"
        subprocess.run(self.run_as + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-o", opts, "-l", f"{self.dir}/log", "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", "CREATE DATABASE wharf"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pid = int(open(f"{self.dir}/data/postmaster.pid").readline())

    def connection(self):
        return f"Host=127.0.0.1;Port={self.port};Username=postgres;Database=wharf;Maximum Pool Size=100" + os.environ.get("WHARF_BENCH_PG_EXTRA", "")

    def stop(self):
        subprocess.run(self.run_as + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Node:
    def __init__(self, dll, work, index, pg, blobs, master_key):
        self.port = free_port()
        data = os.path.join(work, f"node{index}")
        os.makedirs(data, exist_ok=True)
        limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
        env = dict(os.environ, Logging__LogLevel__Default="Warning", WHARF__Storage__Path=blobs,
                   WHARF__Identity__MasterKeyFile=master_key, **limits)
        self.proc = subprocess.Popen(["dotnet", dll, "serve", "--port", str(self.port), "--public-port", "0", "--data-dir", data, "--auth", "open",
                                      "--metadata", "postgres", "--metadata-connection", pg.connection()],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_http(self.port, proc=self.proc)

    def stop(self):
        self.proc.kill(); self.proc.wait()


class Nginx:
    def __init__(self, work, ports):
        self.dir = tempfile.mkdtemp(dir=work, prefix="nginx-")
        self.port = free_port()
        upstream = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
        conf = f"""worker_processes 2;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log error;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  upstream wharf {{
{upstream}    keepalive 128;
  }}
  server {{
    listen 127.0.0.1:{self.port};
    client_max_body_size 0;
    location / {{
      proxy_pass http://wharf;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_request_buffering off;
      proxy_buffering off;
    }}
  }}
}}
"""
        path = os.path.join(self.dir, "nginx.conf")
        open(path, "w").write(conf)
        self.proc = subprocess.Popen(["nginx", "-c", path, "-p", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.port, proc=self.proc)

    def stop(self):
        self.proc.terminate(); self.proc.wait()


def push_small_image(port, repo, tag):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    layer = os.urandom(4096); config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in (layer, config):
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        c.request("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", body=blob, headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
    c.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest, headers={"Content-Type": OCI_MANIFEST})
    r = c.getresponse(); r.read(); assert r.status == 201, r.status
    c.close()


def cpu_by_pid(pids):
    result = {}
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            result[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except FileNotFoundError:
            pass
    return result


def load(port, path, seconds, groups):
    """wrk (2 threads, 64 connections) against port; returns rps and, for each named group of root
    pids (with their descendants, read again at the end so that PostgreSQL backends forked during the
    run count), the cores it kept busy. wrk's own CPU comes from its rusage."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False); script.write('wrk.method = "GET"\n'); script.close()
    before = {name: cpu_by_pid([p for root in roots for p in tree(root)]) for name, roots in groups.items()}
    start = time.time()
    proc = subprocess.Popen(["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", script.name, "-H", f"Accept: {OCI_MANIFEST}",
                             f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.time() - start
    busy = {}
    for name, roots in groups.items():
        after = cpu_by_pid([p for root in roots for p in tree(root)])
        busy[name] = sum(t - before[name].get(pid, 0.0) for pid, t in after.items()) / wall
    busy["wrk"] = (usage.ru_utime + usage.ru_stime) / wall
    os.unlink(script.name)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"GET {path} through port {port}: {non2xx.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), busy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--nodes", default="1,2,3")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--out")
    args = ap.parse_args()
    counts = [int(n) for n in args.nodes.split(",")]
    work = tempfile.mkdtemp(prefix="wharf-bench-cluster-")
    os.chmod(work, 0o755)  # PostgreSQL runs as nobody when we are root
    pg = nodes = balancer = None
    try:
        pg = Postgres(work)
        blobs = os.path.join(work, "blobs"); os.makedirs(blobs)
        master_key = os.path.join(work, "master.key")
        nodes = [Node(args.wharf_dll, work, 0, pg, blobs, master_key)]
        push_small_image(nodes[0].port, "bench/app", "latest")
        for i in range(1, max(counts)):
            nodes.append(Node(args.wharf_dll, work, i, pg, blobs, master_key))
        path = "/v2/bench/app/manifests/latest"
        # JIT tiers, connection pools and PostgreSQL's caches warm up on every node before any row.
        for node in nodes:
            load(node.port, path, 3, {})
        rows = []
        # One node, no balancer: the reference the balancer's cost is read against.
        rps, cpu = load(nodes[0].port, path, args.seconds, {"Wharf nodes": [nodes[0].proc.pid], "PostgreSQL": [pg.pid]})
        rows.append(("1 node, direct (no balancer)", rps, cpu))
        for n in counts:
            balancer = Nginx(work, [node.port for node in nodes[:n]])
            rps, cpu = load(balancer.port, path, args.seconds,
                            {"Wharf nodes": [node.proc.pid for node in nodes[:n]], "nginx": [balancer.proc.pid], "PostgreSQL": [pg.pid]})
            rows.append((f"{n} node{'s' if n > 1 else ''} behind nginx", rps, cpu))
            balancer.stop(); balancer = None
        cores = os.cpu_count()
        lines = [f"Manifest GET by tag (rps), wrk 2 threads × 64 connections, {args.seconds} s; {cores} cores shared by everything below. "
                 "CPU columns are cores busy during the run (1.00 = one core).", "",
                 "| setup | rps | Wharf nodes | nginx | PostgreSQL | wrk |", "|---|---:|---:|---:|---:|---:|"]
        for name, rps, cpu in rows:
            lines.append(f"| {name} | {rps:,.0f} | {cpu.get('Wharf nodes', 0):.2f} | {cpu.get('nginx', 0):.2f} | {cpu.get('PostgreSQL', 0):.2f} | {cpu.get('wrk', 0):.2f} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        if balancer: balancer.stop()
        for node in nodes or []: node.stop()
        if pg: pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
