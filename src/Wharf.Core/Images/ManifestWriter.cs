using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
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

        var decision = Decide(repository, key, tag);
        var write = Write(repository.Id, key, parsed, content, tag, digest, origin) with { TagImmutable = decision.TagImmutable, ScanRule = decision.ScanRule };
        return Pushed(await store.Images.PutManifestAsync(write, cancellationToken), key, parsed, tag, digest);
    }

    /// <summary>
    /// As <see cref="WriteAsync(Repository, RepositoryKey, ParsedManifest, ReadOnlyMemory{byte}, string?, Digest?, WharfErrorCode, RegistryKey?, CancellationToken)"/>
    /// into the repository of <paramref name="key"/>, which the write finds itself (<see cref="ManifestWrite.Target"/>:
    /// on a networked database, with its first statements rather than in a round trip of its own); <c>NAME_UNKNOWN</c>
    /// when there is none. Null, with nothing written, where the repository must be read and checked first: when
    /// <paramref name="usable"/> refuses the row found (a KMS key to check) or the digest differs from
    /// <paramref name="expectedDigest"/> (whose error comes after the repository's, as it always has).
    /// </summary>
    internal async Task<ManifestPushed?> WriteAsync(
        RepositoryKey key,
        Func<Repository, bool> usable,
        ParsedManifest parsed,
        ReadOnlyMemory<byte> content,
        string? tag,
        Digest? expectedDigest,
        RegistryKey? origin,
        CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(expectedDigest?.Algorithm ?? DigestAlgorithm.Sha256, content.Span);
        if (expectedDigest is { } expected && expected != digest)
        {
            return null;
        }

        var target = new ManifestTarget(key, repository => usable(repository) ? Decide(repository, key, tag) : null);
        var result = await store.Images.PutManifestAsync(Write(0, key, parsed, content, tag, digest, origin) with { Target = target }, cancellationToken);
        return result.RepositoryMissing ? throw RepositoryResolver.NameUnknown(key)
            : result.Undecided ? null
            : Pushed(result, key, parsed, tag, digest);
    }

    /// <summary>
    /// What the repository decides of a write: tag immutability, and scan on push, requested inside the write so that
    /// the image has a scan status (IN_PROGRESS) from the moment the push answers, as in ECR
    /// (<c>aws ecr wait image-scan-complete</c> right after a push waits). The registry's scanning configuration is read
    /// by the write itself (one round trip fewer).
    /// </summary>
    private ManifestTargetDecision Decide(Repository repository, RepositoryKey key, string? tag)
    {
        var scanLimit = time.GetUtcNow() - ImageService.ScanInterval;
        var scanOnPush = repository.Settings.ScanOnPush;
        var scanRule = new PushScanRule(
            key.Registry,
            settings => ScanningConfiguration.FromSetting(settings.GetValueOrDefault(ScanningConfiguration.SettingName)).For(key.Name.Value, scanOnPush).ScanFrequency
                is "SCAN_ON_PUSH" or "CONTINUOUS_SCAN" ? new PushScanRequest(scanLimit) : null);
        return new ManifestTargetDecision(tag is not null && repository.Settings.IsImmutable(tag), scanRule);
    }

    private ManifestWrite Write(long repositoryId, RepositoryKey key, ParsedManifest parsed, ReadOnlyMemory<byte> content, string? tag, Digest digest, RegistryKey? origin)
    {
        var now = time.GetUtcNow();
        return new ManifestWrite(
            repositoryId,
            digest,
            parsed.MediaType,
            parsed.ArtifactType,
            parsed.Subject,
            content.ToArray(),
            parsed.AnnotationsJson,
            parsed.Blobs,
            parsed.Children,
            tag,
            now,
            Event: origin is { } from
                ? EcrEvents.Replication(key, digest, tag is null ? [] : [tag], from, now)
                : EcrEvents.Image(key, digest, tag is null ? [] : [tag], "PUSH", now),
            DeclaredSizes: parsed.Sizes);
    }

    private static ManifestPushed Pushed(PutManifestResult result, RepositoryKey key, ParsedManifest parsed, string? tag, Digest digest)
    {
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
