using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Core.Images;

/// <summary>An image as a caller names it: by digest, by tag, or both (ECR's <c>ImageIdentifier</c>).</summary>
public sealed record ImageRef(string? Digest, string? Tag)
{
    /// <summary>ECR's rendering in error messages: <c>{imageDigest:'…', imageTag:'…'}</c>.</summary>
    public override string ToString() => $"{{imageDigest:'{Digest ?? "null"}', imageTag:'{Tag ?? "null"}'}}";
}

/// <summary>One per-image failure of a batch call, with ECR's failure code and reason.</summary>
public sealed record ImageFailure(ImageRef Id, string Code, string Reason);

/// <summary>A manifest returned by <c>BatchGetImage</c>, with the id it was asked for.</summary>
public sealed record FoundImage(ImageRef Id, ManifestRecord Manifest);

/// <summary>Outcome of a batch call: what succeeded and what failed, per id.</summary>
public sealed record BatchResult<T>(IReadOnlyList<T> Succeeded, IReadOnlyList<ImageFailure> Failures);

/// <summary>ECR's image operations over the same store and services as /v2.</summary>
public sealed class ImageService(IMetadataStore store, RepositoryResolver repositories, ManifestService manifests, PullRecorder pulls, TimeProvider time, PullThroughCacheService? pullThrough = null)
{
    /// <summary>ECR allows one scan of an image in this long (ECR-NOTES §5.3).</summary>
    public static readonly TimeSpan ScanInterval = TimeSpan.FromHours(24);

    public async Task<IReadOnlyList<ImageId>> ListAsync(Caller caller, RepositoryKey key, TagStatus status, ImageStatusFilter imageStatus, ImageId? after, int limit, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.ListImages, cancellationToken);
        return await store.Images.ListImageIdsAsync(repository.Id, status, imageStatus, after, limit, cancellationToken);
    }

    public async Task<IReadOnlyList<ImageSummary>> DescribeAsync(Caller caller, RepositoryKey key, TagStatus status, ImageStatusFilter imageStatus, Digest? after, int limit, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.DescribeImages, cancellationToken);
        return await WithScansAsync(repository.Id, await store.Images.DescribeImagesAsync(repository.Id, status, imageStatus, after, limit, cancellationToken), cancellationToken);
    }

    /// <summary>A page of the repository's images newest pushed first, with their scans (the console's images table), authorised as <c>DescribeImages</c>.</summary>
    public async Task<IReadOnlyList<ImageSummary>> BrowseAsync(Caller caller, RepositoryKey key, ImageBrowse query, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.DescribeImages, cancellationToken);
        return await WithScansAsync(repository.Id, await store.Images.BrowseImagesAsync(repository.Id, query, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// ECR Public's <c>DescribeImageTags</c>: a page of the repository's tags (active images, by digest then
    /// tag, after <paramref name="after"/>), each with its image. Authorised as <paramref name="action"/>,
    /// not as <c>ListImages</c>, which on a public repository is everyone's.
    /// </summary>
    public async Task<IReadOnlyList<(ImageId Id, ImageSummary Image)>> DescribeTagsAsync(Caller caller, RepositoryKey key, string action, ImageId? after, int limit, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, action, cancellationToken);
        var ids = await store.Images.ListImageIdsAsync(repository.Id, TagStatus.Tagged, ImageStatusFilter.Active, after, limit, cancellationToken);
        var images = (await store.Images.GetImagesAsync(repository.Id, ids.Select(i => i.Digest).Distinct().ToList(), cancellationToken)).ToDictionary(i => i.Digest);

        // An image deleted between the two reads is left out, as if the page had been read after.
        return [.. ids.Where(i => images.ContainsKey(i.Digest)).Select(i => (i, images[i.Digest]))];
    }

    /// <summary>The named images, once each; the first one missing fails the call with <c>ImageNotFoundException</c> (as ECR).</summary>
    public async Task<IReadOnlyList<ImageSummary>> DescribeAsync(Caller caller, RepositoryKey key, IReadOnlyList<ImageRef> ids, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.DescribeImages, cancellationToken);
        var digests = new List<Digest>();
        foreach (var id in ids)
        {
            digests.Add((await ResolveOrThrowAsync(repository, key, id, cancellationToken)).Digest);
        }

        var found = await store.Images.GetImagesAsync(repository.Id, digests, cancellationToken);
        var byDigest = found.ToDictionary(i => i.Digest);
        var ordered = new List<ImageSummary>();
        foreach (var digest in digests.Distinct())
        {
            // Deleted between the lookups: the call fails as if it had been absent from the start.
            ordered.Add(byDigest.TryGetValue(digest, out var image) ? image : throw ImageNotFound(key, new ImageRef(digest.ToString(), null)));
        }

        return await WithScansAsync(repository.Id, ordered, cancellationToken);
    }

    /// <summary>
    /// ECR's <c>StartImageScan</c>: requests a scan of the image, which the scan job runs. An image is
    /// scanned at most once a day (a scan on push counts), as in ECR; archived images and artifacts that
    /// are not container images cannot be scanned.
    /// </summary>
    public async Task<(Digest Digest, string Status)> StartScanAsync(Caller caller, RepositoryKey key, ImageRef id, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.StartImageScan, cancellationToken);
        var record = await ResolveOrThrowAsync(repository, key, id, cancellationToken);
        if (record.Archived)
        {
            throw new WharfException(WharfErrorCode.ImageArchived, $"The image with imageId {id} in the repository with name '{key.Name}' is archived; restore it with UpdateImageStorageClass before scanning it.");
        }

        if (MediaTypes.IsManifest(record.MediaType) && ConfigMediaType(record.Content) is var config && !MediaTypes.IsImageConfig(config))
        {
            throw new WharfException(WharfErrorCode.UnsupportedImageType, $"The image with imageId {id} is an artifact (config media type '{config}'), not a container image; only container images are scanned.");
        }

        var now = time.GetUtcNow();
        return await store.Scans.RequestAsync(repository.Id, record.Digest, now, now - ScanInterval, cancellationToken) switch
        {
            ScanRequestResult.Requested => (record.Digest, ScanStatuses.InProgress),
            ScanRequestResult.TooSoon => throw new WharfException(
                WharfErrorCode.ScanLimitExceeded,
                $"The image with imageId {id} was already scanned, or a scan was started, in the last 24 hours; an image can be scanned once every 24 hours."),
            _ => throw ImageNotFound(key, id),
        };
    }

    /// <summary>
    /// ECR's <c>DescribeImageScanFindings</c>: the image (for its tags and push time) and its scan with the
    /// findings; <c>ScanNotFoundException</c> when it was never scanned.
    /// </summary>
    public async Task<(ImageSummary Image, ImageScanRecord Scan)> GetScanAsync(Caller caller, RepositoryKey key, ImageRef id, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.DescribeImageScanFindings, cancellationToken);
        var record = await ResolveOrThrowAsync(repository, key, id, cancellationToken);
        var scan = await store.Scans.GetAsync(repository.Id, record.Digest, cancellationToken);
        return scan is not null && await store.Images.GetImagesAsync(repository.Id, [record.Digest], cancellationToken) is [var image, ..]
            ? (image, scan)
            : throw new WharfException(
                WharfErrorCode.ScanNotFound,
                $"Image scan does not exist for the image with '{id}' in the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");
    }

    /// <summary>The image <paramref name="id"/> names, after authorising <paramref name="action"/> on its repository; <c>ImageNotFoundException</c> when absent.</summary>
    public async Task<ManifestRecord> FindAsync(Caller caller, RepositoryKey key, string action, ImageRef id, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, action, cancellationToken);
        return await ResolveOrThrowAsync(repository, key, id, cancellationToken);
    }

    private async Task<IReadOnlyList<ImageSummary>> WithScansAsync(long repositoryId, IReadOnlyList<ImageSummary> images, CancellationToken cancellationToken)
    {
        var scans = (await store.Scans.GetSummariesAsync(repositoryId, [.. images.Select(i => i.Digest)], cancellationToken)).ToDictionary(s => s.Digest);
        return scans.Count == 0 ? images : [.. images.Select(i => scans.TryGetValue(i.Digest, out var scan) ? i with { Scan = scan } : i)];
    }

    private async Task<ManifestRecord> ResolveOrThrowAsync(Repository repository, RepositoryKey key, ImageRef id, CancellationToken cancellationToken)
    {
        var (record, failure) = await ResolveAsync(repository, id, cancellationToken);
        return failure is null ? record!
            : failure.Code is "ImageNotFound" or "ImageTagDoesNotMatchDigest" ? throw ImageNotFound(key, id)
            : throw new WharfException(WharfErrorCode.InvalidParameter, failure.Reason);
    }

    private static string? ConfigMediaType(byte[] content)
    {
        using var document = JsonDocument.Parse(content);
        return document.RootElement.TryGetProperty("config", out var config) && config.TryGetProperty("mediaType", out var type) ? type.GetString() : null;
    }

    /// <summary>
    /// ECR's <c>BatchGetImage</c>: each id's manifest, or a failure. With <paramref name="acceptedMediaTypes"/>,
    /// a manifest of another type fails (Wharf stores exact bytes and does not convert formats).
    /// </summary>
    public async Task<BatchResult<FoundImage>> BatchGetAsync(
        Caller caller, RepositoryKey key, IReadOnlyList<ImageRef> ids, IReadOnlyCollection<string>? acceptedMediaTypes, CancellationToken cancellationToken)
    {
        Repository? repository;
        try
        {
            repository = await repositories.FindAsync(caller, key, EcrActions.BatchGetImage, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.KmsException)
        {
            // ECR reports a repository key it cannot use per image, as the failure code KmsError.
            return new BatchResult<FoundImage>([], ids.Distinct().Select(id => new ImageFailure(id, "KmsError", e.Message)).ToList());
        }

        if (repository is null && pullThrough is null)
        {
            throw RepositoryResolver.NameUnknown(key);
        }

        var found = new List<FoundImage>();
        var failures = new List<ImageFailure>();
        foreach (var id in ids.Distinct())
        {
            var (record, failure) = repository is null ? (null, NotFoundFailure(id)) : await ResolveAsync(repository, id, cancellationToken);
            if (pullThrough is not null && (failure?.Code == "ImageNotFound" || (record is { Archived: false } && id.Digest is null)))
            {
                (record, failure) = await PullThroughAsync(caller, key, repository, id, record, failure, cancellationToken);
                repository ??= record is null ? null : await store.Repositories.GetAsync(key, cancellationToken);
            }

            if (failure is not null)
            {
                failures.Add(failure);
            }
            else if (record!.Archived)
            {
                failures.Add(new ImageFailure(id, "ImageNotFound", "Requested image is archived; restore it with UpdateImageStorageClass to pull it"));
            }
            else if (acceptedMediaTypes is { Count: > 0 } && !acceptedMediaTypes.Contains(record!.MediaType, StringComparer.Ordinal))
            {
                failures.Add(new ImageFailure(id, "ImageNotFound", $"The image's media type '{record.MediaType}' is not among acceptedMediaTypes, and Wharf does not convert manifest formats"));
            }
            else
            {
                pulls.Record(caller, key, record!.RepositoryId, record.Digest);
                found.Add(new FoundImage(id with { Digest = record.Digest.ToString() }, record));
            }
        }

        return new BatchResult<FoundImage>(found, failures);
    }

    /// <summary>
    /// <c>BatchGetImage</c> of an image not stored, or of a cached tag, in a repository a pull-through cache rule
    /// covers: the rule's upstream's image (imported), else the failure ECR reports (its failure codes for the
    /// upstream's own failures). A missing repository no rule covers stays <c>RepositoryNotFoundException</c>.
    /// </summary>
    private async Task<(ManifestRecord? Record, ImageFailure? Failure)> PullThroughAsync(
        Caller caller, RepositoryKey key, Repository? repository, ImageRef id, ManifestRecord? cached, ImageFailure? failure, CancellationToken cancellationToken)
    {
        var reference = id.Tag is not null ? Reference.Of(Tag.Parse(id.Tag)) : Reference.Of(Digest.Parse(id.Digest!));
        try
        {
            var record = await pullThrough!.PullAsync(caller, key, repository, reference, cached, cancellationToken);
            if (record is null)
            {
                return repository is null ? throw RepositoryResolver.NameUnknown(key) : (null, failure);
            }

            return id.Tag is not null && id.Digest is not null && record.Digest.ToString() != id.Digest
                ? (null, new ImageFailure(id, "ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag does not map to the given digest"))
                : (record, null);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.ManifestUnknown)
        {
            return (null, NotFoundFailure(id));
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.UpstreamUnavailable or WharfErrorCode.UpstreamTooManyRequests or WharfErrorCode.UpstreamAccessDenied)
        {
            return (null, new ImageFailure(id, e.Code.ToString(), e.Message));
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.SecretNotFound or WharfErrorCode.UnableToAccessSecret or WharfErrorCode.UnableToDecryptSecretValue)
        {
            return (null, new ImageFailure(id, nameof(WharfErrorCode.UpstreamAccessDenied), e.Message));
        }
    }

    /// <summary>
    /// A lifecycle expiry: deletes the image as <c>BatchDeleteImage</c> by digest does (tags and references
    /// go, blobs become GC candidates, an image an index lists stays), but only if it is still as the
    /// plan saw it, and with its event in the same transaction.
    /// </summary>
    public Task<LifecycleApplyResult> ExpireAsync(long repositoryId, Lifecycle.LifecycleImage planned, OutboxEvent evt, CancellationToken cancellationToken) =>
        store.Lifecycle.ExpireAsync(repositoryId, planned, evt, cancellationToken);

    /// <summary>
    /// ECR's <c>BatchDeleteImage</c>: by digest deletes the image and its tags; by tag removes the tag,
    /// and the image with its last tag. An image that an index lists is not deleted.
    /// </summary>
    public async Task<BatchResult<ImageRef>> BatchDeleteAsync(Caller caller, RepositoryKey key, IReadOnlyList<ImageRef> ids, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.BatchDeleteImage, cancellationToken);
        var deleted = new List<ImageRef>();
        var failures = new List<ImageFailure>();
        foreach (var id in ids.Distinct())
        {
            var (record, failure) = await ResolveAsync(repository, id, cancellationToken);
            if (failure is not null)
            {
                failures.Add(failure);
                continue;
            }

            if (id.Digest is null)
            {
                // The tag goes (with the image, when it was the last): a DELETE naming the tag, as ECR's event for it.
                var untagged = await store.Images.UntagImageAsync(repository.Id, id.Tag!, d => EcrEvents.Image(key, d, [id.Tag!], "DELETE", time.GetUtcNow()), cancellationToken);
                if (untagged.Found)
                {
                    deleted.Add(new ImageRef(untagged.Digest!.ToString(), id.Tag));
                }
                else
                {
                    failures.Add(NotFoundFailure(id));
                }

                continue;
            }

            var tags = id.Tag is null ? [] : new[] { id.Tag };
            switch (await store.Images.DeleteManifestAsync(repository.Id, record!.Digest, EcrEvents.Image(key, record.Digest, tags, "DELETE", time.GetUtcNow()), cancellationToken))
            {
                case DeleteManifestResult.Deleted:
                    deleted.Add(new ImageRef(record.Digest.ToString(), id.Tag));
                    break;
                case DeleteManifestResult.ReferencedByIndex:
                    failures.Add(new ImageFailure(id, "ImageReferencedByManifestList", $"Requested image referenced by manifest list: [{record.Digest}]"));
                    break;
                default:
                    failures.Add(NotFoundFailure(id));
                    break;
            }
        }

        return new BatchResult<ImageRef>(deleted, failures);
    }

    /// <summary>
    /// ECR's <c>PutImage</c>: the /v2 manifest PUT plus ECR's rule that a push changing nothing
    /// (same manifest, tag already on it) fails with <c>ImageAlreadyExistsException</c>.
    /// </summary>
    public async Task<ManifestPushed> PutAsync(
        Caller caller, RepositoryKey key, string manifest, string? mediaType, string? tag, Digest? digest, CancellationToken cancellationToken)
    {
        if (tag is not null && !Tag.TryParse(tag, out _))
        {
            throw new WharfException(
                WharfErrorCode.InvalidParameter,
                "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}''");
        }

        var content = System.Text.Encoding.UTF8.GetBytes(manifest);
        ManifestPushed pushed;
        try
        {
            pushed = await manifests.PutAsync(caller, key, tag, digest, WharfErrorCode.ImageDigestDoesNotMatch, mediaType, content, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.TagImmutable)
        {
            // The /v2 wording names the tag; the API's is ECR's exception text.
            throw new WharfException(WharfErrorCode.TagImmutable);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.ManifestBlobUnknown)
        {
            throw new WharfException(WharfErrorCode.LayersNotFound, e.Message);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.ManifestInvalid && mediaType is null && !DeclaresMediaType(content))
        {
            // ECR does not infer a schema 2 manifest's type from its content: without imageManifestMediaType
            // a manifest with no mediaType (as OCI allows) is refused in these words.
            throw new WharfException(WharfErrorCode.InvalidParameter, "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.ManifestInvalid)
        {
            // ECR's wording for a manifest it refuses (InvalidParameterException).
            throw new WharfException(WharfErrorCode.ManifestInvalid, $"Invalid parameter at 'ImageManifest' failed to satisfy constraint: '{e.Message}'");
        }

        if (!pushed.Created && !pushed.TagChanged)
        {
            throw new WharfException(
                WharfErrorCode.ImageAlreadyExists,
                $"Image with digest '{pushed.Digest}' and tag '{tag ?? "null"}' already exists in the repository with name '{key.Name}' in registry with id '{key.Registry.Account}'");
        }

        return pushed;
    }

    private static bool DeclaresMediaType(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("mediaType", out var declared) && declared.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static WharfException ImageNotFound(RepositoryKey key, ImageRef id) =>
        new(WharfErrorCode.ImageNotFound, $"The image with imageId {id} does not exist within the repository with name '{key.Name}' in the registry with id '{key.Registry.Account}'");

    /// <summary>Finds the manifest an id names, or says why not with ECR's failure code and reason.</summary>
    private async Task<(ManifestRecord? Record, ImageFailure? Failure)> ResolveAsync(Repository repository, ImageRef id, CancellationToken cancellationToken)
    {
        if (id.Digest is null && id.Tag is null)
        {
            return (null, new ImageFailure(id, "MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"));
        }

        Digest? digest = null;
        if (id.Digest is not null)
        {
            if (!Digest.TryParse(id.Digest, out var parsed))
            {
                return (null, new ImageFailure(id, "InvalidImageDigest", "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"));
            }

            digest = parsed;
        }

        if (id.Tag is not null && !Tag.TryParse(id.Tag, out _))
        {
            return (null, new ImageFailure(id, "InvalidImageTag", "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'"));
        }

        if (id.Tag is not null)
        {
            var tagged = await store.Images.GetManifestByTagAsync(repository.Id, id.Tag, cancellationToken);
            if (tagged is null)
            {
                return (null, NotFoundFailure(id));
            }

            return digest is not null && tagged.Digest != digest
                ? (null, new ImageFailure(id, "ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag does not map to the given digest"))
                : (tagged, null);
        }

        var record = await store.Images.GetManifestAsync(repository.Id, digest!.Value, cancellationToken);
        return record is null ? (null, NotFoundFailure(id)) : (record, null);
    }

    private static ImageFailure NotFoundFailure(ImageRef id) => new(id, "ImageNotFound", "Requested image not found");
}
