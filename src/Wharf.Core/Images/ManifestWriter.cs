using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Scanning;

namespace Wharf.Core.Images;

/// <summary>
/// The one manifest write, after whatever authorised it: /v2 PUT and <c>PutImage</c> (through
/// <see cref="ManifestService"/>), replication's copies, and the pull-through cache's imports (a system
/// write no caller authorises). Computes and checks the digest, requests scan on push inside the write,
/// enforces tag immutability in the store's transaction, records the event, and turns the store's
/// refusals into the protocol's errors.
/// </summary>
public sealed class ManifestWriter(IMetadataStore store, TimeProvider time)
{
    /// <summary>
    /// Stores an image the pull-through cache fetched from its upstream (its blobs and children already
    /// stored and linked), tagged <paramref name="tag"/> when given, recorded as a <c>PUSH</c> so scanning,
    /// replication and lifecycle treat it as any pushed image.
    /// </summary>
    public Task<ManifestPushed> WriteImportedAsync(Repository repository, RepositoryKey key, string? tag, Digest digest, string mediaType, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        WriteAsync(repository, key, ParsedManifest.Parse(content, mediaType), content, tag, digest, WharfErrorCode.DigestInvalid, origin: null, cancellationToken);

    /// <summary>Writes <paramref name="parsed"/> (the bytes <paramref name="content"/>) into <paramref name="repository"/>; <paramref name="origin"/> marks a replicated copy.</summary>
    internal async Task<ManifestPushed> WriteAsync(
        Repository repository,
        RepositoryKey key,
        ParsedManifest parsed,
        ReadOnlyMemory<byte> content,
        string? tag,
        Digest? expectedDigest,
        WharfErrorCode digestMismatch,
        RegistryKey? origin,
        CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(expectedDigest?.Algorithm ?? DigestAlgorithm.Sha256, content.Span);
        if (expectedDigest is { } expected && expected != digest)
        {
            throw new WharfException(digestMismatch, $"manifest digest {digest} does not match the reference {expected}", new JsonObject { ["digest"] = expected.ToString() });
        }

        // Scan on push is requested inside the write, so the image has a scan status (IN_PROGRESS) from
        // the moment the push answers, as in ECR: `aws ecr wait image-scan-complete` right after a push waits.
        // The registry's scanning configuration is read by the write itself (one round trip fewer).
        var scanLimit = time.GetUtcNow() - ImageService.ScanInterval;
        var scanRule = new PushScanRule(
            key.Registry,
            settings => ScanningConfiguration.FromSetting(settings.GetValueOrDefault(ScanningConfiguration.SettingName)).For(key.Name.Value, repository.Settings.ScanOnPush).ScanFrequency
                is "SCAN_ON_PUSH" or "CONTINUOUS_SCAN" ? new PushScanRequest(scanLimit) : null);
        var result = await store.Images.PutManifestAsync(
            new ManifestWrite(
                repository.Id,
                digest,
                parsed.MediaType,
                parsed.ArtifactType,
                parsed.Subject,
                content.ToArray(),
                parsed.AnnotationsJson,
                parsed.Blobs,
                parsed.Children,
                tag,
                time.GetUtcNow(),
                tag is not null && repository.Settings.IsImmutable(tag),
                origin is { } from
                    ? EcrEvents.Replication(key, digest, tag is null ? [] : [tag], from, time.GetUtcNow())
                    : EcrEvents.Image(key, digest, tag is null ? [] : [tag], "PUSH", time.GetUtcNow()),
                parsed.Sizes,
                ScanRule: scanRule),
            cancellationToken);

        if (!result.Succeeded)
        {
            if (result.TagImmutable)
            {
                throw new WharfException(
                    WharfErrorCode.TagImmutable,
                    $"The image tag '{tag}' already exists in the '{key.Name}' repository and cannot be overwritten because the repository is immutable.");
            }

            if (result.MissingBlobs.Count > 0)
            {
                throw new WharfException(
                    WharfErrorCode.ManifestBlobUnknown,
                    $"manifest references blobs unknown to this repository: {string.Join(", ", result.MissingBlobs)}",
                    new JsonObject { ["blobs"] = new JsonArray([.. result.MissingBlobs.Select(d => (JsonNode)d.ToString())]) });
            }

            if (result.MissingChildren.Count == 0 && result.WrongSizes is [var wrong, ..])
            {
                // As other registries word it: a descriptor must give the real size of what it names.
                throw new WharfException(
                    WharfErrorCode.ManifestInvalid,
                    $"{wrong.Digest} is {wrong.Actual} bytes but the manifest's descriptor declares {wrong.Declared} bytes",
                    new JsonObject { ["digest"] = wrong.Digest.ToString(), ["declared"] = wrong.Declared, ["actual"] = wrong.Actual });
            }

            throw new WharfException(
                WharfErrorCode.ReferencedImagesNotFound,
                $"index references manifests unknown to this repository: {string.Join(", ", result.MissingChildren)}",
                new JsonObject { ["manifests"] = new JsonArray([.. result.MissingChildren.Select(d => (JsonNode)d.ToString())]) });
        }

        return new ManifestPushed(digest, parsed.Subject, parsed.MediaType, result.Created, result.TagChanged);
    }
}
