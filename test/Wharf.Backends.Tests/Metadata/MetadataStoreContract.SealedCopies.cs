using Wharf.Core.Encryption;
using Wharf.Core.Primitives;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>Sealed copies (encryption at rest): one per digest and scope, recorded once, listed and forgotten.</summary>
public abstract partial class MetadataStoreContract
{
    private const string KmsScope = "arn:aws:kms:us-east-1:123456789012:key/0b8f1c1e-1111-4222-8333-944455556666";

    [Fact]
    [Covers(typeof(ISealedCopyStore), nameof(ISealedCopyStore.AddAsync))]
    [Covers(typeof(ISealedCopyStore), nameof(ISealedCopyStore.GetAsync))]
    public async Task A_scope_records_one_sealed_copy_of_a_digest_and_the_first_recorded_wins()
    {
        await using var store = await CreateStoreAsync();
        var digest = Digest.Compute(DigestAlgorithm.Sha256, "layer"u8);
        var first = Copy(digest, "aes256", "upload-1", [0, 100_000, 200_000]);
        Assert.True(await store.SealedCopies.AddAsync(first, Ct));
        Assert.False(await store.SealedCopies.AddAsync(Copy(digest, "aes256", "upload-2", [0]), Ct));

        var read = await store.SealedCopies.GetAsync(digest, "aes256", Ct);
        Assert.NotNull(read);
        Assert.Equal(first.Address, read.Address);
        Assert.Equal([0L, 100_000L, 200_000L], read.Runs);
        Assert.Equal("upload-1", read.UploadId);
        Assert.Equal(300_000, read.Size);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Same(BlobScope.Master, read.Scope);
        Assert.Null(await store.SealedCopies.GetAsync(digest, KmsScope, Ct));
        Assert.Null(await store.SealedCopies.GetAsync(Digest.Compute(DigestAlgorithm.Sha256, "other"u8), "aes256", Ct));
    }

    [Fact]
    [Covers(typeof(ISealedCopyStore), nameof(ISealedCopyStore.ListAsync))]
    [Covers(typeof(ISealedCopyStore), nameof(ISealedCopyStore.ListAllAsync))]
    [Covers(typeof(ISealedCopyStore), nameof(ISealedCopyStore.DeleteAsync))]
    public async Task Each_scope_has_its_own_copy_listed_by_digest_and_forgotten_alone()
    {
        await using var store = await CreateStoreAsync();
        var digest = Digest.Compute(DigestAlgorithm.Sha256, "shared"u8);
        var empty = Digest.Compute(DigestAlgorithm.Sha256, ""u8);
        Assert.True(await store.SealedCopies.AddAsync(Copy(digest, "aes256", "u1", [0]), Ct));
        Assert.True(await store.SealedCopies.AddAsync(Copy(digest, KmsScope, "u2", [0]), Ct));
        Assert.True(await store.SealedCopies.AddAsync(Copy(empty, "aes256", "u3", [], size: 0), Ct));

        var both = await store.SealedCopies.ListAsync(digest, Ct);
        Assert.Equal(["aes256", KmsScope], both.Select(c => c.ScopeId));
        Assert.Equal(KmsScope, both[1].Scope.KmsKeyArn);
        var all = new List<SealedCopy>();
        await foreach (var copy in store.SealedCopies.ListAllAsync(Ct))
        {
            all.Add(copy);
        }

        Assert.Equal(3, all.Count);
        Assert.Empty(all.Single(c => c.Digest == empty).Runs);

        Assert.True(await store.SealedCopies.DeleteAsync(digest, KmsScope, Ct));
        Assert.False(await store.SealedCopies.DeleteAsync(digest, KmsScope, Ct));
        Assert.Equal(["aes256"], (await store.SealedCopies.ListAsync(digest, Ct)).Select(c => c.ScopeId));
    }

    private static SealedCopy Copy(Digest digest, string scope, string uploadId, long[] runs, long size = 300_000) =>
        new(digest, scope, SealedBlobVault.AddressOf(scope == "aes256" ? BlobScope.Master : new BlobScope(scope), digest, uploadId), size, runs, uploadId, T0);
}
