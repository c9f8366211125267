"""Images and the layer-upload API through boto3: every operation and its error paths."""
import json
import urllib.error
import urllib.request

from wharf_test import ACCOUNT, PREFIX, client, done, expect_error, image_manifest, push_image, sha256, upload_layer

ecr = client()
loose = client(validate=False)
repo = f"{PREFIX}/images"
ecr.create_repository(repositoryName=repo)

# --- Layer upload API ---
layer = bytes(range(256)) * 4096  # 1 MiB
layer_digest = sha256(layer)
check = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[layer_digest, "not-a-digest"])
assert check["layers"] == [{"layerDigest": layer_digest, "layerAvailability": "UNAVAILABLE"}], check
assert check["failures"][0]["failureCode"] == "InvalidLayerDigest", check

upload = ecr.initiate_layer_upload(repositoryName=repo)
assert upload["partSize"] > 0 and len(upload["uploadId"]) == 36, upload
uid = upload["uploadId"]
ecr.upload_layer_part(repositoryName=repo, uploadId=uid, partFirstByte=0, partLastByte=399_999, layerPartBlob=layer[:400_000])
gap = expect_error("InvalidLayerPartException", ecr.upload_layer_part, repositoryName=repo, uploadId=uid,
                   partFirstByte=500_000, partLastByte=599_999, layerPartBlob=layer[500_000:600_000])
assert gap["lastValidByteReceived"] == 399_999 and gap["uploadId"] == uid and gap["repositoryName"] == repo, gap
expect_error("InvalidLayerPartException", ecr.upload_layer_part, repositoryName=repo, uploadId=uid,
             partFirstByte=400_000, partLastByte=400_009, layerPartBlob=layer[400_000:400_005])
r = ecr.upload_layer_part(repositoryName=repo, uploadId=uid, partFirstByte=400_000, partLastByte=len(layer) - 1, layerPartBlob=layer[400_000:])
assert r["lastByteReceived"] == len(layer) - 1, r
expect_error("InvalidLayerException", ecr.complete_layer_upload, repositoryName=repo, uploadId=uid, layerDigests=[sha256(b"other")])
assert ecr.complete_layer_upload(repositoryName=repo, uploadId=uid, layerDigests=[layer_digest])["layerDigest"] == layer_digest
expect_error("UploadNotFoundException", ecr.upload_layer_part, repositoryName=repo, uploadId=uid, partFirstByte=0, partLastByte=0, layerPartBlob=b"x")
expect_error("InvalidParameterException", ecr.upload_layer_part, repositoryName=repo, uploadId="not-a-uuid",
             partFirstByte=0, partLastByte=0, layerPartBlob=b"x", contains="uploadId")

empty = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
expect_error("EmptyUploadException", ecr.complete_layer_upload, repositoryName=repo, uploadId=empty, layerDigests=[layer_digest])
again = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
ecr.upload_layer_part(repositoryName=repo, uploadId=again, partFirstByte=0, partLastByte=len(layer) - 1, layerPartBlob=layer)
expect_error("LayerAlreadyExistsException", ecr.complete_layer_upload, repositoryName=repo, uploadId=again, layerDigests=[layer_digest])

check = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[layer_digest])
assert check["layers"] == [{"layerDigest": layer_digest, "layerAvailability": "AVAILABLE", "layerSize": len(layer)}], check

# A layer in the repository but in no image is not downloadable (ECR's LayerInaccessibleException).
expect_error("LayerInaccessibleException", ecr.get_download_url_for_layer, repositoryName=repo, layerDigest=layer_digest)
expect_error("LayersNotFoundException", ecr.get_download_url_for_layer, repositoryName=repo, layerDigest=sha256(b"never"))

# --- PutImage ---
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
config_digest = upload_layer(ecr, repo, config)
manifest = image_manifest(config_digest, len(config), [(layer_digest, len(layer))])
digest = sha256(manifest)
put = ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag="v1")["image"]
assert put["imageId"] == {"imageDigest": digest, "imageTag": "v1"} and put["imageManifest"] == manifest.decode(), put
assert put["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", put
expect_error("ImageAlreadyExistsException", ecr.put_image, repositoryName=repo, imageManifest=manifest.decode(), imageTag="v1",
             contains=f"Image with digest '{digest}' and tag 'v1' already exists in the repository with name '{repo}' in registry with id '{ACCOUNT}'")
ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag="latest")
expect_error("ImageDigestDoesNotMatchException", ecr.put_image, repositoryName=repo, imageManifest=manifest.decode(),
             imageTag="v2", imageDigest=sha256(b"something else"))
ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag="v2", imageDigest=digest)
missing_layer = image_manifest(config_digest, len(config), [(sha256(b"absent"), 6)])
expect_error("LayersNotFoundException", ecr.put_image, repositoryName=repo, imageManifest=missing_layer.decode(), imageTag="broken")
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(b"no such manifest"), "size": 5}]})
expect_error("ReferencedImagesNotFoundException", ecr.put_image, repositoryName=repo, imageManifest=index, imageTag="idx")
expect_error("InvalidParameterException", ecr.put_image, repositoryName=repo, imageManifest="{not json", imageTag="bad")
expect_error("RepositoryNotFoundException", ecr.put_image, repositoryName=f"{PREFIX}/nope", imageManifest=manifest.decode())

# An untagged image and an index over the tagged one.
untagged_digest, _, _ = push_image(ecr, repo, annotation="untagged")
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(manifest)}]})
index_digest = ecr.put_image(repositoryName=repo, imageManifest=index, imageTag="multi")["image"]["imageId"]["imageDigest"]

# --- ListImages / DescribeImages ---
ids = ecr.list_images(repositoryName=repo)["imageIds"]
expected = sorted([(digest, "latest"), (digest, "v1"), (digest, "v2"), (untagged_digest, None), (index_digest, "multi")], key=lambda i: (i[0], i[1] or ""))
assert [(i["imageDigest"], i.get("imageTag")) for i in ids] == expected, ids
assert [i.get("imageTag") for i in ecr.list_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageIds"]] == [None]
assert len(ecr.list_images(repositoryName=repo, filter={"tagStatus": "TAGGED"})["imageIds"]) == 4
expect_error("RepositoryNotFoundException", ecr.list_images, repositoryName=f"{PREFIX}/nope")

details = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName=repo)["imageDetails"]}
d = details[digest]
assert d["imageTags"] == ["latest", "v1", "v2"] and d["imageSizeInBytes"] == len(config) + len(layer), d
assert d["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", d
assert d["artifactMediaType"] == "application/vnd.oci.image.config.v1+json" and d["imageStatus"] == "ACTIVE", d
assert d["registryId"] == ACCOUNT and d["repositoryName"] == repo and d["imagePushedAt"].year >= 2024, d
assert "lastRecordedPullTime" not in d, d
assert "imageTags" not in details[untagged_digest], details[untagged_digest]
assert details[index_digest]["imageSizeInBytes"] == d["imageSizeInBytes"], details[index_digest]
only = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["imageDetails"]
assert [x["imageDigest"] for x in only] == [digest], only
assert [x["imageDigest"] for x in ecr.describe_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageDetails"]] == [untagged_digest]
expect_error("ImageNotFoundException", ecr.describe_images, repositoryName=repo, imageIds=[{"imageTag": "nope"}],
             contains=f"The image with imageId {{imageDigest:'null', imageTag:'nope'}} does not exist within the repository with name '{repo}' in the registry with id '{ACCOUNT}'")
expect_error("InvalidParameterException", ecr.describe_images, repositoryName=repo, imageIds=[{"imageTag": "v1"}], maxResults=10)

# --- BatchGetImage ---
got = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}, {"imageDigest": "bad"}, {},
                                                          {"imageDigest": untagged_digest, "imageTag": "v1"}])
assert [(i["imageId"], i["imageManifest"]) for i in got["images"]] == [({"imageDigest": digest, "imageTag": "v1"}, manifest.decode())], got
codes = sorted(f["failureCode"] for f in got["failures"])
assert codes == ["ImageNotFound", "ImageTagDoesNotMatchDigest", "InvalidImageDigest", "MissingDigestAndTag"], got["failures"]
refused = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}],
                              acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json"])
assert refused["images"] == [] and refused["failures"][0]["failureCode"] == "ImageNotFound", refused
accepted = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}],
                               acceptedMediaTypes=["application/vnd.oci.image.manifest.v1+json"])
assert len(accepted["images"]) == 1, accepted

# --- GetDownloadUrlForLayer: a URL on Wharf itself, no credentials needed ---
url = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=layer_digest)
assert url["layerDigest"] == layer_digest, url
with urllib.request.urlopen(url["downloadUrl"]) as response:
    body = response.read()
assert sha256(body) == layer_digest and len(body) == len(layer)
tampered = url["downloadUrl"][:-3] + ("AAA" if not url["downloadUrl"].endswith("AAA") else "BBB")
try:
    urllib.request.urlopen(tampered)
    raise AssertionError("a tampered download URL was served")
except urllib.error.HTTPError as e:
    assert e.code == 403, e.code

# --- BatchDeleteImage ---
deleted = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "latest"}, {"imageTag": "nope"}, {"imageDigest": digest}])
assert deleted["imageIds"] == [{"imageDigest": digest, "imageTag": "latest"}], deleted
assert sorted(f["failureCode"] for f in deleted["failures"]) == ["ImageNotFound", "ImageReferencedByManifestList"], deleted
assert "referenced by manifest list" in [f for f in deleted["failures"] if f["failureCode"] == "ImageReferencedByManifestList"][0]["failureReason"]
# Removing an image's last tag removes the image (the index is the only image tagged 'multi').
gone = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "multi"}])
assert gone["imageIds"] == [{"imageDigest": index_digest, "imageTag": "multi"}] and gone["failures"] == [], gone
assert index_digest not in [i["imageDigest"] for i in ecr.list_images(repositoryName=repo)["imageIds"]]
gone = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])
assert gone["imageIds"] == [{"imageDigest": digest}] and gone["failures"] == [], gone

# --- Tag immutability ---
immutable = f"{PREFIX}/immutable"
ecr.create_repository(repositoryName=immutable, imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                      imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}, {"filterType": "WILDCARD", "filter": "dev-*"}])
push_image(ecr, immutable, tag="v1", annotation="one")
expect_error("ImageTagAlreadyExistsException", push_image, ecr, immutable, tag="v1", annotation="two",
             contains="The repository is configured for tag immutability")
for tag in ["latest", "dev-42"]:
    push_image(ecr, immutable, tag=tag, annotation="one")
    push_image(ecr, immutable, tag=tag, annotation="two")
ecr.put_image_tag_mutability(repositoryName=immutable, imageTagMutability="MUTABLE")
push_image(ecr, immutable, tag="v1", annotation="three")

expect_error("RepositoryNotEmptyException", ecr.delete_repository, repositoryName=immutable,
             contains=f"The repository with name '{immutable}' in registry with id '{ACCOUNT}' cannot be deleted because it still contains images")
ecr.delete_repository(repositoryName=immutable, force=True)
ecr.delete_repository(repositoryName=repo, force=True)
done("ecr_images")
