"""Pagination over more than one page: 250 repositories, 1,050 images; tokens bound to their listing."""
from concurrent.futures import ThreadPoolExecutor

from wharf_test import PREFIX, client, done, expect_error, push_image

ecr = client()

# 250 repositories, paged 100 at a time by the CLI's own paginator.
names = [f"{PREFIX}/r{i:03d}" for i in range(250)]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda n: ecr.create_repository(repositoryName=n), names))
pages = list(ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 100}))
seen = [r["repositoryName"] for p in pages for r in p["repositories"] if r["repositoryName"].startswith(PREFIX + "/r")]
assert len(pages) >= 3 and seen == sorted(names), (len(pages), len(seen))
first = ecr.describe_repositories(maxResults=100)
assert len(first["repositories"]) == 100 and "nextToken" in first

# 1,050 images in one repository (distinct manifests over shared blobs).
repo = f"{PREFIX}/many"
other = f"{PREFIX}/r000"
ecr.create_repository(repositoryName=repo)
push_image(ecr, repo, tag="seed", annotation="seed")


def push(i):
    return push_image(ecr, repo, tag=f"t{i:04d}" if i % 2 == 0 else None, annotation=str(i))[0]


with ThreadPoolExecutor(8) as pool:
    digests = set(pool.map(push, range(1049)))
assert len(digests) == 1049

listed = [i for p in ecr.get_paginator("list_images").paginate(repositoryName=repo, PaginationConfig={"PageSize": 100}) for i in p["imageIds"]]
assert len(listed) == 1050 and len({(i["imageDigest"], i.get("imageTag")) for i in listed}) == 1050, len(listed)
described = [d for p in ecr.get_paginator("describe_images").paginate(repositoryName=repo, PaginationConfig={"PageSize": 1000}) for d in p["imageDetails"]]
assert len(described) == 1050 and len({d["imageDigest"] for d in described}) == 1050

# A token only continues the listing it came from.
page = ecr.list_images(repositoryName=repo, maxResults=10)
token = page["nextToken"]
expect_error("InvalidParameterException", ecr.list_images, repositoryName=other, nextToken=token, contains="nextToken")
expect_error("InvalidParameterException", ecr.list_images, repositoryName=repo, nextToken=token, filter={"tagStatus": "TAGGED"}, contains="nextToken")
expect_error("InvalidParameterException", ecr.describe_images, repositoryName=repo, nextToken=token, contains="nextToken")
expect_error("InvalidParameterException", ecr.list_images, repositoryName=repo, nextToken=token[:-2] + "xx", contains="nextToken")

# Stable under concurrent pushes: every image present at the start is listed exactly once.
before = {(i["imageDigest"], i.get("imageTag")) for i in listed}
collected = []
token = None
n = 0
while True:
    kwargs = {"repositoryName": repo, "maxResults": 100}
    if token:
        kwargs["nextToken"] = token
    p = ecr.list_images(**kwargs)
    collected += [(i["imageDigest"], i.get("imageTag")) for i in p["imageIds"]]
    push_image(ecr, repo, tag=f"during{n}", annotation=f"during{n}")
    n += 1
    token = p.get("nextToken")
    if not token:
        break
assert len(collected) == len(set(collected)), "an entry was listed twice"
assert before <= set(collected), "an image present before paging was skipped"

done("ecr_pagination")
