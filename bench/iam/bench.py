#!/usr/bin/env python3
"""IAM mode's cost on small requests, side by side: Wharf in IAM mode (a user with AmazonEC2ContainerRegistryReadOnly,
an ECR token from GetAuthorizationToken sent as docker sends it after `docker login -u AWS`: `Authorization: Basic
base64("AWS:<token>")` on every request) against Wharf with --auth open, on the small-request rows of bench/run
(manifest GET by tag with wrk, blob HEAD with ab), both servers running and warm, in paired bursts back to back with
the order alternating (bench/metrics/bench.py's method) so drift on a busy machine hits both alike. Driven by
bench/iam/run; reuses bench/bench.py's client code; boto3 for IAM and ECR calls."""
import argparse, base64, configparser, os, shutil, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402

TARGET = 0.85
REPO = "bench/app"


def basic(token):
    return "Basic " + base64.b64encode(f"AWS:{token}".encode()).decode()


def ecr_token(port, key_id, secret):
    import boto3
    ecr = boto3.client("ecr", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id=key_id, aws_secret_access_key=secret)
    data = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(data).decode().partition(":")
    assert user == "AWS"
    return password


def program(path):
    """How to start a build: a wharf.dll with dotnet, a Native AOT executable (in its publish directory) as itself."""
    return ["dotnet", path] if path.endswith(".dll") else [path]


def start(args, work, iam, dll=None, name=None):
    limits = {f"WHARF__Limits__{c}__{k}": "1000000000" for c in ("Pull", "Push", "Read") for k in ("RequestsPerSecond", "Burst")}
    env = dict(os.environ, Logging__LogLevel__Default="Warning", **limits)
    data = os.path.join(work, name or ("iam" if iam else "open"))
    port = b.free_port()
    argv = [*program(dll or args.wharf_binary or args.wharf_dll), "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "iam" if iam else "open"]
    # Ready when /v2/ answers at all: 401 without a password in IAM mode.
    srv = b.Server("Wharf " + (name or ("IAM" if iam else "open")), argv, port, env, ready=(200, 401), timeout=120)
    if iam:
        import boto3
        creds = configparser.ConfigParser()
        creds.read(os.path.join(data, "root-credentials"))
        root = (creds["default"]["aws_access_key_id"], creds["default"]["aws_secret_access_key"])
        # The root pushes the image; a read-only user pulls it, so its policies are evaluated on every request.
        srv.auth = basic(ecr_token(port, *root))
        srv.layer = b.push_small_image(srv, REPO, ["latest"])
        iam_client = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                  aws_access_key_id=root[0], aws_secret_access_key=root[1])
        iam_client.create_user(UserName="puller")
        iam_client.attach_user_policy(UserName="puller", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
        key = iam_client.create_access_key(UserName="puller")["AccessKey"]
        srv.auth = basic(ecr_token(port, key["AccessKeyId"], key["SecretAccessKey"]))
        # The user's token pulls, and cannot push: the policy is in force.
        c = srv.conn()
        c.request("POST", f"/v2/{REPO}/blobs/uploads/", body=b"", headers={"Content-Length": "0"})
        r = c.getresponse(); r.read(); c.close()
        if r.status != 403:
            sys.exit(f"a read-only user's push start answered {r.status}, not 403")
    else:
        srv.layer = b.push_small_image(srv, REPO, ["latest"])
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wharf-dll", required=True)
    ap.add_argument("--wharf-binary", help="run this tree's servers as this Native AOT executable (a publish directory's wharf) instead of --wharf-dll")
    ap.add_argument("--warmup", type=int, default=30, help="load per row per server before measuring (default 30 s)")
    ap.add_argument("--seconds", type=int, default=4, help="one burst of load (default 4 s)")
    ap.add_argument("--rounds", type=int, default=8, help="paired bursts per row; medians are reported (default 8)")
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--base-dll", help="instead of open mode: another build's wharf.dll or Native AOT executable, also in IAM mode (before/after; the ratio is this tree ÷ base)")
    ap.add_argument("--keep", action="store_true", help="print the servers' pids and wait for Enter before stopping them (to profile)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-iam-bench-")
    servers = []
    try:
        iam = start(args, work, True)
        servers.append(iam)
        opn = start(args, work, True, args.base_dll, "base") if args.base_dll else start(args, work, False)
        servers.append(opn)
        b.warm_pair(iam, opn, b.small_burst, args.warmup)
        if args.keep:
            print(f"IAM pid {iam.pid} port {iam.port} auth {iam.auth!r} layer {iam.layer}; open pid {opn.pid} port {opn.port}", flush=True)
            input()
        rows = b.paired_rows(iam, opn, b.small_burst, args.rounds, args.seconds)
        if args.base_dll:
            lines = [f"Both builds in IAM mode, warm ({args.warmup} s of load per row each), then {args.rounds} pairs of {args.seconds}-s "
                     "bursts per row, this tree and the base build back to back; medians, and the median of the pairs' ratios.", "",
                     "| row | this tree | base | this ÷ base (median of pairs) |", "|---|---:|---:|---:|"]
            lines += [f"| {key} | {a:,.1f} | {z:,.1f} | {ratio:.3f} |" for key, a, z, ratio in rows]
            print("\n".join(lines))
            if args.out:
                open(args.out, "w").write("\n".join(lines) + "\n")
            return
        lines = [f"Both servers warm ({args.warmup} s of load per row each), then {args.rounds} pairs of {args.seconds}-s bursts "
                 "per row, IAM and open back to back; medians, and the median of the pairs' ratios. IAM = a user with "
                 "AmazonEC2ContainerRegistryReadOnly sending its GetAuthorizationToken password on every request; "
                 "open = --auth open.", "",
                 "| row | IAM mode | open mode | IAM ÷ open (median of pairs) | target | |", "|---|---:|---:|---:|---|---|"]
        for key, a, z, ratio in rows:
            if key.endswith("(rps)"):
                target, verdict = f"≥ {TARGET}", "PASS" if ratio >= TARGET else "MISS"
            else:
                target, verdict = "", ""
            lines.append(f"| {key} | {a:,.1f} | {z:,.1f} | {ratio:.3f} | {target} | {verdict} |")
        table = "\n".join(lines)
        print(table)
        if args.out:
            open(args.out, "w").write(table + "\n")
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
