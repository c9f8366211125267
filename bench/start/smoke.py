#!/usr/bin/env python3
"""A smoke test of a published wharf binary (bench/start/run --aot runs it on the Native AOT build): the paths
that read or write JSON, which a trimmed binary without source-generated metadata for them would answer with 500.
IAM mode on loopback: the root key creates an IAM user (IAM's XML API), GetAuthorizationToken (ECR's JSON API,
SigV4) gives skopeo its password; skopeo copies an OCI image in and back out (digests compared); a ranged blob
GET, tags/list, _catalog, DescribeRepositories, DescribeImages, an OCI error body, /metrics; then, stopped, the
CLI's --json (status, gc). Standard library and skopeo only; exits non-zero on the first failure.
    smoke.py PATH-TO-WHARF"""
import gzip, hashlib, io, json, os, shutil, subprocess, sys, tarfile, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench as b  # noqa: E402

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def fail(what):
    sys.exit(f"smoke: {what}")


def oci_layout(directory, tag):
    """A one-layer OCI image layout (a gzipped tar holding one file) that skopeo reads."""
    blobs = os.path.join(directory, "blobs", "sha256"); os.makedirs(blobs)

    def blob(data, media_type):
        d = hashlib.sha256(data).hexdigest()
        open(os.path.join(blobs, d), "wb").write(data)
        return {"mediaType": media_type, "digest": "sha256:" + d, "size": len(data)}

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        payload = os.urandom(300_000)
        info = tarfile.TarInfo("smoke.bin"); info.size = len(payload); t.addfile(info, io.BytesIO(payload))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer = blob(gzip.compress(raw.getvalue(), mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
    config = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/smoke.bin"]},
                              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = blob(json.dumps({"schemaVersion": 2, "mediaType": b.OCI_MANIFEST, "config": config, "layers": [layer]}).encode(), b.OCI_MANIFEST)
    manifest["annotations"] = {"org.opencontainers.image.ref.name": tag}
    open(os.path.join(directory, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(os.path.join(directory, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [manifest]}))
    return manifest["digest"], layer


def ecr(srv, root, target, body):
    return json.loads(b.signed(srv.port, "ecr", *root, json.dumps(body).encode(), {
        "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonEC2ContainerRegistry_V20150921." + target}))


def main():
    if len(sys.argv) != 2:
        fail("usage: smoke.py PATH-TO-WHARF")
    wharf = os.path.abspath(sys.argv[1])
    if not shutil.which("skopeo"):
        fail("skopeo is not installed (Debian: apt-get install skopeo)")
    work = tempfile.mkdtemp(prefix="wharf-smoke-")
    data = os.path.join(work, "data"); port = b.free_port()
    log = open(os.path.join(work, "wharf.log"), "wb")
    argv = [wharf, "serve", "--port", str(port), "--public-port", "0", "--data-dir", data, "--auth", "iam"]
    srv = b.Server("wharf", argv, port, env=b.wharf_env(), ready=(200, 401), log=log)
    srv.data = data
    try:
        auth, _ = b.iam_user(srv)  # IAM's XML API, SigV4, GetAuthorizationToken's JSON
        srv.auth = auth
        creds = dict(line.split(" = ", 1) for line in open(os.path.join(data, "root-credentials")).read().splitlines() if " = " in line)
        root = (creds["aws_access_key_id"].strip(), creds["aws_secret_access_key"].strip())
        password = __import__("base64").b64decode(auth.split()[1]).decode().split(":", 1)[1]

        layout = os.path.join(work, "in"); os.makedirs(layout)
        digest, layer = oci_layout(layout, "v1")
        host = f"127.0.0.1:{port}"
        skopeo = ["skopeo", "--insecure-policy"]
        subprocess.run(skopeo + ["copy", "-q", "--dest-tls-verify=false", "--dest-creds", f"AWS:{password}",
                                 f"oci:{layout}:v1", f"docker://{host}/smoke/app:v1"], check=True)
        subprocess.run(skopeo + ["copy", "-q", "--src-tls-verify=false", "--src-creds", f"AWS:{password}",
                                 f"docker://{host}/smoke/app:v1", f"oci:{work}/out:v1"], check=True)
        out = json.load(open(os.path.join(work, "out", "index.json")))["manifests"][0]["digest"]
        if out != digest:
            fail(f"skopeo copied {digest} in and {out} out")

        c = srv.conn()
        r, body = b.request(c, "GET", f"/v2/smoke/app/blobs/{layer['digest']}", headers={"Range": "bytes=10-99"}, expect=(206,))
        if len(body) != 90:
            fail(f"a ranged GET gave {len(body)} bytes")
        _, body = b.request(c, "GET", "/v2/smoke/app/tags/list", expect=(200,))
        if json.loads(body)["tags"] != ["v1"]:
            fail(f"tags/list: {body!r}")
        _, body = b.request(c, "GET", "/v2/_catalog", expect=(200,))
        if "smoke/app" not in json.loads(body)["repositories"]:
            fail(f"_catalog: {body!r}")
        r, body = b.request(c, "GET", "/v2/smoke/app/manifests/v2", expect=(404,))
        error = json.loads(body)["errors"][0]
        if error["code"] != "MANIFEST_UNKNOWN" or error["detail"] != {"reference": "v2"}:
            fail(f"the OCI error body: {body!r}")
        _, body = b.request(c, "GET", "/metrics", expect=(200,))
        c.close()

        repos = ecr(srv, root, "DescribeRepositories", {})["repositories"]
        if [x["repositoryName"] for x in repos] != ["smoke/app"]:
            fail(f"DescribeRepositories: {repos}")
        images = ecr(srv, root, "DescribeImages", {"repositoryName": "smoke/app"})["imageDetails"]
        if images[0]["imageDigest"] != digest or images[0]["imageTags"] != ["v1"]:
            fail(f"DescribeImages: {images}")
        ecr(srv, root, "PutLifecyclePolicy", {"repositoryName": "smoke/app", "lifecyclePolicyText": json.dumps({"rules": [{
            "rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
            "action": {"type": "expire"}}]})})
        ecr(srv, root, "PutReplicationConfiguration", {"replicationConfiguration": {"rules": [{"destinations": [{"region": "eu-west-1", "registryId": b.ACCOUNT}],
            "repositoryFilters": [{"filter": "none/", "filterType": "PREFIX_MATCH"}]}]}})
        rules = ecr(srv, root, "DescribeRegistry", {})["replicationConfiguration"]["rules"]
        if rules[0]["destinations"][0]["region"] != "eu-west-1":
            fail(f"DescribeRegistry: {rules}")
    finally:
        srv.proc.terminate(); srv.proc.wait(30)

    # status exits 1 with the server down (as here), and still prints its document.
    for command, codes in ((["status", "--json"], (1,)), (["gc", "--json"], (0,))):
        result = subprocess.run([wharf, *command, "--data-dir", data], capture_output=True, text=True, env=b.wharf_env())
        if result.returncode not in codes:
            fail(f"wharf {' '.join(command)}: exit {result.returncode}: {result.stderr[-500:]}")
        document = json.loads(result.stdout)
        if command[0] == "status" and (document["server"]["up"] or not document["metadata"]["healthy"]):
            fail(f"wharf status --json: {result.stdout}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"smoke: {os.path.basename(wharf)} passed (skopeo in and out, ranges, listings, the ECR and IAM APIs, an OCI error, /metrics, --json)")


if __name__ == "__main__":
    main()
