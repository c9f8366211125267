using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IBlobIndex), nameof(IBlobIndex.ListLinkEncryptionsAsync))]
    public async Task ListLinkEncryptions_gives_each_linked_repositorys_encryption_once()
    {
        await using var store = await CreateStoreAsync();
        var plain = await CreateRepoAsync(store, "team/one");
        var alsoPlain = await CreateRepoAsync(store, "team/two");
        var kms = await store.Repositories.CreateAsync(
            RepoKey("team/kms"),
            RepositorySettings.Default with { EncryptionType = "KMS", KmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
            [],
            T0,
            Ct) ?? throw new InvalidOperationException("repository exists");
        var shared = await UploadBlobAsync(store, plain.Id, "shared");
        Assert.True(await store.Blobs.LinkBlobAsync(alsoPlain.Id, shared, T0, Ct));
        Assert.True(await store.Blobs.LinkBlobAsync(kms.Id, shared, T0, Ct));
        await store.Blobs.ReserveBlobAsync(BlobDigest("alone"), 10, T0, Ct);

        var encryptions = await store.Blobs.ListLinkEncryptionsAsync(shared, Ct);

        Assert.Equal(
            [("AES256", null), ("KMS", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")],
            encryptions.OrderBy(e => e.EncryptionType, StringComparer.Ordinal).ToList());
        Assert.Empty(await store.Blobs.ListLinkEncryptionsAsync(BlobDigest("alone"), Ct));
    }
}
