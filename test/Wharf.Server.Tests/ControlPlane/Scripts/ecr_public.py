"""ECR Public through boto3: every operation of the ecr-public model, the layer-upload API and PutImage
end to end, and the error paths; and that ECR's API sees no public repository.

Runs on a fresh server (no public registry yet). WHARF_PUBLIC is the public address (host:port).
"""
import base64
import datetime
import hashlib
import json
import os
import re

from wharf_test import ACCOUNT, PREFIX, client, done, expect_error, image_manifest, sha256, upload_layer

PUBLIC = os.environ["WHARF_PUBLIC"]
pub = client(service="ecr-public")
loose = client(validate=False, service="ecr-public")
ecr = client()

# A 1x1 PNG: the logo.
LOGO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

# --- Registries before the first public repository ---
assert pub.describe_registries()["registries"] == [], "an account has no public registry before its first public repository"

# --- GetAuthorizationToken ---
auth = pub.get_authorization_token()["authorizationData"]
user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
assert user == "AWS" and len(password) > 20, auth
assert auth["expiresAt"] > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=11), auth

# --- CreateRepository with catalog data and tags ---
name = f"{PREFIX}/app"
created = pub.create_repository(
    repositoryName=name,
    catalogData={
        "description": "A small app",
        "architectures": ["x86-64", "ARM 64"],
        "operatingSystems": ["Linux"],
        "logoImageBlob": LOGO,
        "aboutText": "# About\nIt is small.",
        "usageText": "Run `app`.",
    },
    tags=[{"Key": "team", "Value": "blue"}],
)
repository = created["repository"]
assert repository["repositoryArn"] == f"arn:aws:ecr-public::{ACCOUNT}:repository/{name}", repository
assert repository["registryId"] == ACCOUNT and repository["repositoryName"] == name, repository
assert isinstance(repository["createdAt"], datetime.datetime), repository
catalog = created["catalogData"]
logo_url = f"http://{PUBLIC}/logo/{hashlib.sha256(LOGO).hexdigest()}"
assert catalog == {
    "description": "A small app", "architectures": ["x86-64", "ARM 64"], "operatingSystems": ["Linux"],
    "logoUrl": logo_url, "aboutText": "# About\nIt is small.", "usageText": "Run `app`.", "marketplaceCertified": False,
}, catalog

# --- DescribeRegistries: the registry and its default alias, made with the first repository ---
registries = pub.describe_registries()["registries"]
assert len(registries) == 1, registries
registry = registries[0]
alias = registry["aliases"][0]["name"]
assert re.fullmatch("[a-z][a-z0-9]{7}", alias), registry
assert registry == {
    "registryId": ACCOUNT, "registryArn": f"arn:aws:ecr-public::{ACCOUNT}:registry/{ACCOUNT}", "registryUri": f"{PUBLIC}/{alias}",
    "verified": False, "aliases": [{"name": alias, "status": "ACTIVE", "primaryRegistryAlias": True, "defaultRegistryAlias": True}],
}, registry
assert repository["repositoryUri"] == f"{PUBLIC}/{alias}/{name}", repository
expect_error("InvalidParameterException", pub.describe_registries, nextToken="forged")

# --- CreateRepository errors ---
expect_error("RepositoryAlreadyExistsException", pub.create_repository, repositoryName=name,
             contains=f"The repository with name '{name}' already exists in the registry with id '{ACCOUNT}'")
expect_error("TooManyTagsException", pub.create_repository, repositoryName=f"{PREFIX}/tagged",
             tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
expect_error("InvalidParameterException", pub.create_repository, repositoryName=f"{PREFIX}/badlogo",
             catalogData={"logoImageBlob": b"GIF89a not a png"}, contains="PNG or JPEG")
expect_error("InvalidParameterException", loose.create_repository, repositoryName=f"{PREFIX}/hugelogo",
             catalogData={"logoImageBlob": LOGO + b"\0" * 512_001})
expect_error("InvalidParameterException", loose.create_repository, repositoryName="Bad_Name")
expect_error("InvalidTagParameterException", pub.create_repository, repositoryName=f"{PREFIX}/awstag", tags=[{"Key": "aws:x", "Value": "v"}])
expect_error("InvalidTagParameterException", loose.create_repository, repositoryName=f"{PREFIX}/nokey", tags=[{"Value": "v"}])

# The largest catalog the model allows, in non-ASCII text botocore \u-escapes: a body past 1 MiB, still accepted.
big = {"description": "é" * 1024, "aboutText": "é" * 25_600, "usageText": "ü" * 25_600, "logoImageBlob": LOGO + b"\0" * (512_000 - len(LOGO))}
big_tags = [{"Key": f"{i:02d}" + "é" * 126, "Value": "é" * 256} for i in range(50)]
made = pub.create_repository(repositoryName=f"{PREFIX}/big", catalogData=big, tags=big_tags)["catalogData"]
assert made["aboutText"] == big["aboutText"] and made["usageText"] == big["usageText"] and made["logoUrl"].endswith(hashlib.sha256(big["logoImageBlob"]).hexdigest()), "big catalog"
assert len(pub.list_tags_for_resource(resourceArn=f"arn:aws:ecr-public::{ACCOUNT}:repository/{PREFIX}/big")["tags"]) == 50
pub.delete_repository(repositoryName=f"{PREFIX}/big")
expect_error("RequestEntityTooLargeException", loose.create_repository, repositoryName=f"{PREFIX}/huge", catalogData={"aboutText": "x" * (3 * 1024 * 1024)})

# --- DescribeRepositories: names, paging ---
for extra in ("b", "c", "d"):
    pub.create_repository(repositoryName=f"{PREFIX}/{extra}")
described = pub.describe_repositories(repositoryNames=[name])["repositories"]
assert described == [repository], described
expect_error("RepositoryNotFoundException", pub.describe_repositories, repositoryNames=[f"{PREFIX}/missing"],
             contains=f"The repository with name '{PREFIX}/missing' does not exist in the registry with id '{ACCOUNT}'")
expect_error("InvalidParameterException", pub.describe_repositories, repositoryNames=[name], maxResults=1)
seen, token = [], None
while True:
    page = pub.describe_repositories(maxResults=2, **({"nextToken": token} if token else {}))
    assert len(page["repositories"]) <= 2, page
    seen += [r["repositoryName"] for r in page["repositories"]]
    token = page.get("nextToken")
    if not token:
        break
assert seen == sorted([name, f"{PREFIX}/b", f"{PREFIX}/c", f"{PREFIX}/d"]), seen
expect_error("InvalidParameterException", pub.describe_repositories, nextToken="not-a-token")
assert pub.describe_repositories(registryId=ACCOUNT, repositoryNames=[name])["repositories"] == [repository]

# --- Repository catalog data ---
assert pub.get_repository_catalog_data(repositoryName=name)["catalogData"] == catalog
assert pub.get_repository_catalog_data(repositoryName=f"{PREFIX}/b")["catalogData"] == {
    "architectures": [], "operatingSystems": [], "marketplaceCertified": False}, "a repository without catalog data answers it empty"
put = pub.put_repository_catalog_data(repositoryName=name, catalogData={"description": "Still small", "architectures": ["ARM"]})["catalogData"]
assert put == {"description": "Still small", "architectures": ["ARM"], "operatingSystems": [], "logoUrl": logo_url,
               "marketplaceCertified": False}, put
assert pub.get_repository_catalog_data(repositoryName=name)["catalogData"] == put
removed = pub.put_repository_catalog_data(repositoryName=name, catalogData={"description": "No logo", "logoImageBlob": b""})["catalogData"]
assert "logoUrl" not in removed, removed
expect_error("InvalidParameterException", pub.put_repository_catalog_data, repositoryName=name, catalogData={"logoImageBlob": b"<svg/>"})
expect_error("InvalidParameterException", loose.put_repository_catalog_data, repositoryName=name, catalogData={"description": "x" * 1025})
expect_error("RepositoryNotFoundException", pub.get_repository_catalog_data, repositoryName=f"{PREFIX}/missing")
expect_error("RepositoryNotFoundException", pub.put_repository_catalog_data, repositoryName=f"{PREFIX}/missing", catalogData={})
pub.put_repository_catalog_data(repositoryName=name, catalogData={"description": "A small app", "logoImageBlob": LOGO})

# --- Registry catalog data ---
assert pub.get_registry_catalog_data()["registryCatalogData"] == {}
assert pub.put_registry_catalog_data(displayName="Example Corp")["registryCatalogData"] == {"displayName": "Example Corp"}
assert pub.get_registry_catalog_data()["registryCatalogData"] == {"displayName": "Example Corp"}
expect_error("InvalidParameterException", loose.put_registry_catalog_data, displayName="x" * 101)

# --- Layer upload API and PutImage, by alias as registryId ---
layer = bytes(range(256)) * 6144  # 1.5 MiB: the last part's body is past the small body cap (AwsJsonHandler's large-body path)
layer_digest = sha256(layer)
check = pub.batch_check_layer_availability(registryId=alias, repositoryName=name, layerDigests=[layer_digest])
assert check["layers"] == [{"layerDigest": layer_digest, "layerAvailability": "UNAVAILABLE"}], check
upload = pub.initiate_layer_upload(registryId=alias, repositoryName=name)
assert upload["partSize"] > 0 and len(upload["uploadId"]) == 36, upload
uid = upload["uploadId"]
part = pub.upload_layer_part(registryId=alias, repositoryName=name, uploadId=uid, partFirstByte=0, partLastByte=99_999, layerPartBlob=layer[:100_000])
assert part == {"registryId": ACCOUNT, "repositoryName": name, "uploadId": uid, "lastByteReceived": 99_999,
                "ResponseMetadata": part["ResponseMetadata"]}, part
gap = expect_error("InvalidLayerPartException", pub.upload_layer_part, registryId=alias, repositoryName=name, uploadId=uid,
                   partFirstByte=200_000, partLastByte=200_009, layerPartBlob=layer[200_000:200_010])
assert gap["lastValidByteReceived"] == 99_999 and gap["uploadId"] == uid, gap
pub.upload_layer_part(registryId=alias, repositoryName=name, uploadId=uid, partFirstByte=100_000, partLastByte=len(layer) - 1, layerPartBlob=layer[100_000:])
expect_error("InvalidLayerException", pub.complete_layer_upload, registryId=alias, repositoryName=name, uploadId=uid, layerDigests=[sha256(b"other")])
completed = pub.complete_layer_upload(registryId=alias, repositoryName=name, uploadId=uid, layerDigests=[layer_digest])
assert completed["layerDigest"] == layer_digest and completed["registryId"] == ACCOUNT, completed
expect_error("UploadNotFoundException", pub.upload_layer_part, repositoryName=name, uploadId=uid, partFirstByte=0, partLastByte=0, layerPartBlob=b"x")
empty = pub.initiate_layer_upload(repositoryName=name)["uploadId"]
expect_error("EmptyUploadException", pub.complete_layer_upload, repositoryName=name, uploadId=empty, layerDigests=[layer_digest])
check = pub.batch_check_layer_availability(repositoryName=name, layerDigests=[layer_digest, "not-a-digest"])
assert check["layers"] == [{"layerDigest": layer_digest, "layerAvailability": "AVAILABLE", "layerSize": len(layer)}], check
assert check["failures"][0]["failureCode"] == "InvalidLayerDigest", check

# An alias nobody has, and a repository that does not exist (a push never creates a public one).
expect_error("RegistryNotFoundException", pub.initiate_layer_upload, registryId="nosuchalias", repositoryName=name)
expect_error("RegistryNotFoundException", pub.batch_check_layer_availability, registryId="nosuchalias", repositoryName=name, layerDigests=[layer_digest])
expect_error("RepositoryNotFoundException", pub.initiate_layer_upload, repositoryName=f"{PREFIX}/never-created")
expect_error("InvalidParameterException", loose.describe_images, registryId=alias, repositoryName=name)

config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
config_digest = upload_layer(pub, name, config)
manifest = image_manifest(config_digest, len(config), [(layer_digest, len(layer))])
digest = sha256(manifest)
image = pub.put_image(registryId=alias, repositoryName=name, imageManifest=manifest.decode(), imageTag="v1")["image"]
assert image["imageId"] == {"imageDigest": digest, "imageTag": "v1"} and image["registryId"] == ACCOUNT, image
assert image["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", image
pub.put_image(repositoryName=name, imageManifest=manifest.decode(), imageTag="latest")
expect_error("ImageAlreadyExistsException", pub.put_image, repositoryName=name, imageManifest=manifest.decode(), imageTag="v1")
expect_error("ImageDigestDoesNotMatchException", pub.put_image, repositoryName=name, imageManifest=manifest.decode(), imageTag="v9", imageDigest=sha256(b"x"))
expect_error("LayersNotFoundException", pub.put_image, repositoryName=name, imageTag="broken",
             imageManifest=image_manifest(config_digest, len(config), [(sha256(b"absent"), 6)]).decode())
expect_error("RepositoryNotFoundException", pub.put_image, repositoryName=f"{PREFIX}/never-created", imageManifest=manifest.decode())
expect_error("RegistryNotFoundException", pub.put_image, registryId="nosuchalias", repositoryName=name, imageManifest=manifest.decode())
other = image_manifest(config_digest, len(config), [(layer_digest, len(layer))], annotation="second")
other_digest = pub.put_image(repositoryName=name, imageManifest=other.decode(), imageTag="v2")["image"]["imageId"]["imageDigest"]

# --- DescribeImages: ECR Public's ImageDetail (no scan or storage-class fields) ---
details = pub.describe_images(repositoryName=name)["imageDetails"]
by_digest = {d["imageDigest"]: d for d in details}
assert set(by_digest) == {digest, other_digest}, details
first = by_digest[digest]
assert sorted(first["imageTags"]) == ["latest", "v1"], first
assert set(first) == {"registryId", "repositoryName", "imageDigest", "imageTags", "imageSizeInBytes", "imagePushedAt", "imageManifestMediaType", "artifactMediaType"}, first
assert first["artifactMediaType"] == "application/vnd.oci.image.config.v1+json", first
assert first["imageSizeInBytes"] == len(config) + len(layer), first
assert pub.describe_images(repositoryName=name, imageIds=[{"imageTag": "v2"}])["imageDetails"][0]["imageDigest"] == other_digest
expect_error("ImageNotFoundException", pub.describe_images, repositoryName=name, imageIds=[{"imageTag": "nope"}])
expect_error("RepositoryNotFoundException", pub.describe_images, repositoryName=f"{PREFIX}/missing")
page = pub.describe_images(repositoryName=name, maxResults=1)
assert len(page["imageDetails"]) == 1 and page["nextToken"], page
rest = pub.describe_images(repositoryName=name, maxResults=1, nextToken=page["nextToken"])
assert len(rest["imageDetails"]) == 1 and "nextToken" not in rest and rest["imageDetails"][0]["imageDigest"] != page["imageDetails"][0]["imageDigest"], rest

# --- DescribeImageTags, paged ---
tags, token = [], None
while True:
    page = pub.describe_image_tags(repositoryName=name, maxResults=2, **({"nextToken": token} if token else {}))
    tags += page["imageTagDetails"]
    token = page.get("nextToken")
    if not token:
        break
assert sorted(t["imageTag"] for t in tags) == ["latest", "v1", "v2"], tags
v1 = next(t for t in tags if t["imageTag"] == "v1")
assert v1["imageDetail"] == {"imageDigest": digest, "imageSizeInBytes": len(config) + len(layer), "imagePushedAt": v1["imageDetail"]["imagePushedAt"],
                             "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                             "artifactMediaType": "application/vnd.oci.image.config.v1+json"}, v1
assert v1["createdAt"] == v1["imageDetail"]["imagePushedAt"], v1
expect_error("RepositoryNotFoundException", pub.describe_image_tags, repositoryName=f"{PREFIX}/missing")

# --- BatchDeleteImage ---
deleted = pub.batch_delete_image(registryId=alias, repositoryName=name, imageIds=[{"imageTag": "v2"}, {"imageTag": "nope"}])
assert deleted["imageIds"] == [{"imageDigest": other_digest, "imageTag": "v2"}], deleted
assert deleted["failures"][0]["failureCode"] == "ImageNotFound", deleted
assert sorted(t["imageTag"] for t in pub.describe_image_tags(repositoryName=name)["imageTagDetails"]) == ["latest", "v1"]

# --- Repository policies ---
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "ecr-public:DescribeImages"}]})
expect_error("RepositoryPolicyNotFoundException", pub.get_repository_policy, repositoryName=name)
set_policy = pub.set_repository_policy(repositoryName=name, policyText=policy, force=True)
assert set_policy["policyText"] == policy and set_policy["repositoryName"] == name and set_policy["registryId"] == ACCOUNT, set_policy
assert json.loads(pub.get_repository_policy(repositoryName=name)["policyText"]) == json.loads(policy)
assert pub.delete_repository_policy(repositoryName=name)["policyText"] == policy
expect_error("RepositoryPolicyNotFoundException", pub.delete_repository_policy, repositoryName=name)
expect_error("InvalidParameterException", pub.set_repository_policy, repositoryName=name, policyText="{not a policy")
expect_error("RepositoryNotFoundException", pub.set_repository_policy, repositoryName=f"{PREFIX}/missing", policyText=policy)

# --- Resource tags on ECR Public ARNs ---
arn = repository["repositoryArn"]
assert pub.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "team", "Value": "blue"}]
pub.tag_resource(resourceArn=arn, tags=[{"Key": "stage", "Value": "prod"}])
loose.tag_resource(resourceArn=arn, tags=[{"Key": "novalue"}])
assert {"Key": "novalue", "Value": ""} in pub.list_tags_for_resource(resourceArn=arn)["tags"]
pub.untag_resource(resourceArn=arn, tagKeys=["novalue"])
assert sorted(t["Key"] for t in pub.list_tags_for_resource(resourceArn=arn)["tags"]) == ["stage", "team"]
pub.untag_resource(resourceArn=arn, tagKeys=["team"])
assert pub.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "stage", "Value": "prod"}]
expect_error("TooManyTagsException", pub.tag_resource, resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
expect_error("InvalidParameterException", pub.list_tags_for_resource, resourceArn=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}")
expect_error("InvalidParameterException", pub.tag_resource, resourceArn="not-an-arn", tags=[{"Key": "a", "Value": "b"}])
expect_error("RepositoryNotFoundException", pub.list_tags_for_resource, resourceArn=f"arn:aws:ecr-public::{ACCOUNT}:repository/{PREFIX}/missing")

# --- ECR's API sees no public repository, and refuses ECR Public ARNs ---
private_names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
assert not any(n.startswith(f"{PREFIX}/") for n in private_names), private_names
expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=[name])
expect_error("RepositoryNotFoundException", ecr.describe_images, repositoryName=name)
expect_error("InvalidParameterException", ecr.tag_resource, resourceArn=arn, tags=[{"Key": "a", "Value": "b"}])
expect_error("InvalidParameterException", ecr.list_tags_for_resource, resourceArn=arn)

# --- DeleteRepository ---
expect_error("RepositoryNotEmptyException", pub.delete_repository, repositoryName=name)
gone = pub.delete_repository(repositoryName=name, force=True)["repository"]
assert gone["repositoryName"] == name and gone["repositoryUri"] == repository["repositoryUri"], gone
expect_error("RepositoryNotFoundException", pub.describe_repositories, repositoryNames=[name])
expect_error("RepositoryNotFoundException", pub.get_repository_catalog_data, repositoryName=name)
expect_error("RepositoryNotFoundException", pub.delete_repository, repositoryName=name)
assert pub.delete_repository(repositoryName=f"{PREFIX}/b")["repository"]["repositoryName"] == f"{PREFIX}/b"

done("ecr_public.py")
