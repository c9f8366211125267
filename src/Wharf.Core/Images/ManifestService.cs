using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Repositories;
using Wharf.Core.Scanning;
using Wharf.Core.Security;

namespace Wharf.Core.Images;

/// <summary>Outcome of a manifest PUT.</summary>
/// <param name="Digest">The manifest's digest.</param>
/// <param name="Subject">Its <c>subject</c>, when it has one (the <c>OCI-Subject</c> response header).</param>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="Created">The manifest was new to the repository.</param>
/// <param name="TagChanged">The tag was created or moved to it.</param>
public sealed record ManifestPushed(Digest Digest, Digest? Subject, string MediaType, bool Created, bool TagChanged);

/// <summary>Manifests and indexes: validate and store the exact bytes, serve them, delete, list referrers.</summary>
/// <remarks>
/// A miss (repository, tag or digest absent) or a cached tag of a repository a pull-through cache rule
/// covers goes to <paramref name="pullThrough"/>; other repositories' pulls cost what they did.
/// </remarks>
public sealed class ManifestService(
    IMetadataStore store,
    RepositoryResolver repositories,
    PullRecorder pulls,
    TimeProvider time,
    ManifestWriter? writer = null,
    PullThroughCacheService? pullThrough = null)
{
    /// <summary>
    /// PUT: validates <paramref name="content"/> (JSON, schema 2, media type consistent with
    /// <paramref name="contentType"/>, every blob linked, every child present, ≤ 4 MiB, digest reference
    /// matching the bytes) and stores it, pointing the tag at it when <paramref name="reference"/> is a tag.
    /// </summary>
    public Task<ManifestPushed> PutAsync(
        Caller caller,
        RepositoryKey key,
        Reference reference,
        string? contentType,
        ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken) =>
        PutAsync(
            caller,
            key,
            reference.IsDigest ? null : reference.Tag.Value,
            reference.IsDigest ? reference.Digest.Value : null,
            WharfErrorCode.DigestInvalid,
            contentType,
            content,
            cancellationToken);

    /// <summary>
    /// The one manifest write behind /v2 PUT and ECR's <c>PutImage</c>: validates, enforces tag
    /// immutability inside the store's transaction, and stores. A digest that differs from
    /// <paramref name="expectedDigest"/> fails with <paramref name="digestMismatch"/>.
    /// </summary>
    public Task<ManifestPushed> PutAsync(
        Caller caller,
        RepositoryKey key,
        string? tag,
        Digest? expectedDigest,
        WharfErrorCode digestMismatch,
        string? contentType,
        ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken) =>
        PutAsync(caller, key, tag, expectedDigest, digestMismatch, contentType, content, origin: null, cancellationToken);

    /// <summary>
    /// As <see cref="PutAsync(Caller, RepositoryKey, string?, Digest?, WharfErrorCode, string?, ReadOnlyMemory{byte}, CancellationToken)"/>,
    /// for a copy that replication writes: the event recorded is an <c>ECR Replication Action</c> naming
    /// <paramref name="origin"/> rather than a <c>PUSH</c>, so replication never chains (ECR replicates once
    /// per push). Callers authorise the replication themselves.
    /// </summary>
    public Task<ManifestPushed> PutReplicatedAsync(
        Caller caller,
        RepositoryKey key,
        string? tag,
        Digest expectedDigest,
        string? contentType,
        ReadOnlyMemory<byte> content,
        RegistryKey origin,
        CancellationToken cancellationToken) =>
        PutAsync(caller, key, tag, expectedDigest, WharfErrorCode.DigestInvalid, contentType, content, origin, cancellationToken);

    private async Task<ManifestPushed> PutAsync(
        Caller caller,
        RepositoryKey key,
        string? tag,
        Digest? expectedDigest,
        WharfErrorCode digestMismatch,
        string? contentType,
        ReadOnlyMemory<byte> content,
        RegistryKey? origin,
        CancellationToken cancellationToken)
    {
        if (content.Length > DataPlaneSettings.MaxManifestBytes)
        {
            throw new WharfException(WharfErrorCode.ManifestTooLarge);
        }

        var parsed = ParsedManifest.Parse(content, contentType);

        // No create-on-push here: a manifest can only reference blobs already linked to the repository,
        // so a missing repository could only be created to fail with its blobs unknown. The write finds the
        // repository itself, with its first statements (one round trip fewer on PostgreSQL), unless its KMS key
        // must be checked first or the digest is wrong: then it is read and checked before, as for any other action.
        await repositories.AuthorizeAsync(caller, key, EcrActions.PutImage, cancellationToken);
        if (await Writer.WriteAsync(key, r => !repositories.NeedsKeyCheck(r, EcrActions.PutImage), parsed, content, tag, expectedDigest, origin, cancellationToken) is { } pushed)
        {
            return pushed;
        }

        var repository = await repositories.GetAsync(caller, key, EcrActions.PutImage, cancellationToken);
        return await Writer.WriteAsync(repository, key, parsed, content, tag, expectedDigest, digestMismatch, origin, cancellationToken);
    }

    private ManifestWriter Writer { get; } = writer ?? new ManifestWriter(store, time);

    /// <summary>GET/HEAD by tag or digest: the stored record (exact bytes and media type) or <c>MANIFEST_UNKNOWN</c>.</summary>
    public Task<ManifestRecord> GetAsync(Caller caller, RepositoryKey key, Reference reference, CancellationToken cancellationToken) =>
        GetAsync(caller, key, reference, isPull: false, cancellationToken);

    /// <summary>As <see cref="GetAsync(Caller, RepositoryKey, Reference, CancellationToken)"/>; a GET (<paramref name="isPull"/>) is recorded as a pull, in memory, for <see cref="PullRecorder"/> to write later.</summary>
    public async Task<ManifestRecord> GetAsync(Caller caller, RepositoryKey key, Reference reference, bool isPull, CancellationToken cancellationToken)
    {
        // The repository and its manifest in one store call (one round trip on PostgreSQL).
        var found = await repositories.FindAsync(caller, key, EcrActions.BatchGetImage, (k, c) => store.Images.FindManifestAsync(k, reference, c), cancellationToken);
        var repository = found?.Repository;
        var record = found?.Item;

        // An archived image is not pullable until it is restored (ECR: 404), nor fetched again.
        if (record is { Archived: true })
        {
            throw ManifestUnknown(reference);
        }

        // A digest that is stored is never asked of an upstream again; a miss or a tag may be.
        if (pullThrough is not null && (record is null || !reference.IsDigest))
        {
            record = await pullThrough.PullAsync(caller, key, repository, reference, record, cancellationToken);
        }

        if (record is null)
        {
            throw repository is null ? RepositoryResolver.NameUnknown(key) : ManifestUnknown(reference);
        }

        if (isPull)
        {
            pulls.Record(caller, key, record.RepositoryId, record.Digest);
        }

        return record;
    }

    /// <summary>
    /// GET, HEAD or DELETE of a reference that is neither a tag nor a digest: no manifest can have it, so
    /// after the repository and permission checks it is <c>MANIFEST_UNKNOWN</c> (404), as other registries
    /// answer. Only a PUT of such a tag is <c>TAG_INVALID</c>.
    /// </summary>
    public async Task<WharfException> UnknownReferenceAsync(Caller caller, RepositoryKey key, string reference, bool delete, CancellationToken cancellationToken)
    {
        await repositories.GetAsync(caller, key, delete ? EcrActions.BatchDeleteImage : EcrActions.BatchGetImage, cancellationToken);
        return new WharfException(WharfErrorCode.ManifestUnknown, $"manifest {reference} is unknown to this repository: it is not a valid tag", new JsonObject { ["reference"] = reference });
    }

    /// <summary>DELETE: by digest removes the manifest and its tags; by tag removes only the tag.</summary>
    public async Task DeleteAsync(Caller caller, RepositoryKey key, Reference reference, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.BatchDeleteImage, cancellationToken);
        if (!reference.IsDigest)
        {
            var tag = reference.Tag.Value;
            if (!await store.Images.DeleteTagAsync(repository.Id, tag, d => EcrEvents.Image(key, d, [tag], "DELETE", time.GetUtcNow()), cancellationToken))
            {
                throw ManifestUnknown(reference);
            }

            return;
        }

        switch (await store.Images.DeleteManifestAsync(repository.Id, reference.Digest.Value, EcrEvents.Image(key, reference.Digest.Value, [], "DELETE", time.GetUtcNow()), cancellationToken))
        {
            case DeleteManifestResult.NotFound:
                throw ManifestUnknown(reference);
            case DeleteManifestResult.ReferencedByIndex:
                throw new WharfException(WharfErrorCode.ManifestReferenced);
        }
    }

    /// <summary>
    /// The referrers of <paramref name="subject"/> as an OCI image index (JSON bytes), filtered by
    /// <paramref name="artifactType"/> when given. An unknown subject has an empty list, not an error.
    /// </summary>
    public async Task<byte[]> GetReferrersAsync(Caller caller, RepositoryKey key, Digest subject, string? artifactType, CancellationToken cancellationToken)
    {
        var referrers = await ListReferrersAsync(caller, key, subject, artifactType, cancellationToken);
        var buffer = new ArrayBufferWriter<byte>(256 + (referrers.Count * 256));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var referrer in referrers)
            {
                writer.WriteStartObject();
                writer.WriteString("mediaType", referrer.MediaType);
                writer.WriteString("digest", referrer.Digest.ToString());
                writer.WriteNumber("size", referrer.Size);
                if (referrer.ArtifactType is not null)
                {
                    writer.WriteString("artifactType", referrer.ArtifactType);
                }

                if (referrer.AnnotationsJson is not null)
                {
                    writer.WritePropertyName("annotations");
                    writer.WriteRawValue(referrer.AnnotationsJson, skipInputValidation: true);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The manifests whose subject is <paramref name="subject"/> (archived ones too), ordered by digest; ECR's <c>ListImageReferrers</c> and the OCI list both read it.</summary>
    public async Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(Caller caller, RepositoryKey key, Digest subject, string? artifactType, CancellationToken cancellationToken)
    {
        var repository = await repositories.GetAsync(caller, key, EcrActions.BatchGetImage, cancellationToken);
        return await store.Images.ListReferrersAsync(repository.Id, subject, artifactType, cancellationToken);
    }

    private static WharfException ManifestUnknown(Reference reference) =>
        new(WharfErrorCode.ManifestUnknown, $"manifest {reference} is unknown to this repository", new JsonObject { ["reference"] = reference.ToString() });
}
