using System.Text;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The one contract every <see cref="IMetadataStore"/> backend passes (distribution
/// <c>driver/testsuites</c>). A backend departs from it only by overriding one test with a written reason.
/// The tests are split by store across the <c>MetadataStoreContract.*.cs</c> files; time is always
/// an explicit <see cref="DateTimeOffset"/> (whole milliseconds, as the schema stores it).
/// </summary>
public abstract partial class MetadataStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    protected static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh, migrated, empty store. Called once per test.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();

    /// <summary>Another store on the database the last <see cref="CreateStoreAsync"/> made: another process or node.</summary>
    private protected abstract Task<IMetadataStore> OpenAgainAsync();

    /// <summary>
    /// How long after another store's commit returned this store's reads may still serve what they read before (the
    /// engine's read-cache bound): zero where the cache is exact (SQLite), <c>PgChangeWatch.Bound</c> on PostgreSQL.
    /// </summary>
    private protected virtual TimeSpan OtherStoreBound => TimeSpan.Zero;

    /// <summary>Waits out <see cref="OtherStoreBound"/> after another store's commit: a read begun after it must see the commit.</summary>
    private protected Task AfterOtherStoreAsync() =>
        OtherStoreBound == TimeSpan.Zero ? Task.CompletedTask : Task.Delay(OtherStoreBound + TimeSpan.FromMilliseconds(20), Ct);

    protected static RepositoryKey RepoKey(string name, RegistryKey? registry = null) =>
        new(registry ?? Registry, RepositoryName.Parse(name));

    protected static Digest BlobDigest(string seed) => Digest.Sha256Of(Encoding.UTF8.GetBytes("blob:" + seed));

    protected static async Task<Repository> CreateRepoAsync(IMetadataStore store, string name = "team/app") =>
        await store.Repositories.CreateAsync(RepoKey(name), T0, Ct) ?? throw new InvalidOperationException("repository exists");

    /// <summary>Reserves and links a blob to the repository, as a completed upload does.</summary>
    protected static async Task<Digest> UploadBlobAsync(IMetadataStore store, long repositoryId, string seed, DateTimeOffset? now = null, long size = 100)
    {
        var digest = BlobDigest(seed);
        Assert.Equal(BlobReservation.Reserved, await store.Blobs.ReserveBlobAsync(digest, size, now ?? T0, Ct));
        Assert.True(await store.Blobs.LinkBlobAsync(repositoryId, digest, now ?? T0, Ct));
        return digest;
    }

    /// <summary>An image manifest write whose content (and so digest) is unique to <paramref name="seed"/>.</summary>
    protected static ManifestWrite Image(
        long repositoryId,
        string seed,
        IReadOnlyList<Digest> blobs,
        string? tag = null,
        Digest? subject = null,
        string? artifactType = null,
        string? annotationsJson = null,
        DateTimeOffset? now = null)
    {
        var content = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"seed\":\"{seed}\"}}");
        return new ManifestWrite(
            repositoryId, Digest.Sha256Of(content), MediaTypes.OciManifest, artifactType, subject, content,
            annotationsJson, blobs, [], tag, now ?? T0);
    }

    /// <summary>An index write listing <paramref name="children"/>.</summary>
    protected static ManifestWrite Index(long repositoryId, string seed, IReadOnlyList<Digest> children, string? tag = null, DateTimeOffset? now = null)
    {
        var content = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"seed\":\"{seed}\"}}");
        return new ManifestWrite(
            repositoryId, Digest.Sha256Of(content), MediaTypes.OciIndex, null, null, content, null, [], children, tag, now ?? T0);
    }

    protected static async Task<ManifestWrite> PutAsync(IMetadataStore store, ManifestWrite write)
    {
        var result = await store.Images.PutManifestAsync(write, Ct);
        Assert.True(result.Succeeded, $"put failed: missing blobs [{string.Join(", ", result.MissingBlobs)}], children [{string.Join(", ", result.MissingChildren)}]");
        return write;
    }
}
