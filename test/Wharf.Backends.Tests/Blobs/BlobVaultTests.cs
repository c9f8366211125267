using System.Security.Cryptography;
using Wharf.Core.Encryption;
using Wharf.Core.Identity;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.FileSystem;
using Wharf.Storage.S3;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>
/// <see cref="SealedBlobVault"/> on both blob stores: a plaintext blob from before encryption is read as it is,
/// sealed in place for the migration (verified against its digest), and read the same afterwards; sealed copies are
/// deleted record first.
/// </summary>
[Collection(nameof(BlobStoreCollection))]
public sealed class BlobVaultTests : IAsyncDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-vault-" + Guid.NewGuid().ToString("N"));
    private readonly string prefix = "vault-" + Guid.NewGuid().ToString("N");
    private readonly DataKeys keys = new(new SecretBox(RandomNumberGenerator.GetBytes(32)));
    private S3BlobStore? s3;
    private SqliteMetadataStore? metadata;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (s3 is not null)
        {
            await S3TestBucket.EmptyPrefixAsync(s3.Client, s3.Bucket, prefix + "/");
            s3.Dispose();
        }

        if (metadata is not null)
        {
            await metadata.DisposeAsync();
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("fs")]
    [InlineData("s3")]
    public async Task A_plaintext_blob_is_read_as_it_is_then_sealed_in_place_and_read_the_same(string backend)
    {
        var blobs = await StoreAsync(backend);
        var vault = await VaultAsync(blobs);
        var content = RandomNumberGenerator.GetBytes((2 * SealedFormat.SegmentSize) + 99);
        var digest = Digest.Sha256Of(content);
        await WritePlaintextAsync(blobs, digest, content);

        Assert.Equal(content, await ReadAsync(vault, digest, 0, null));
        Assert.Null(await vault.FindSealedAsync(BlobScope.Master, digest, Ct));
        Assert.Equal(SealResult.Missing, await vault.SealPlaintextAsync(BlobScope.Master, Digest.Sha256Of([1, 2, 3]), Ct));

        Assert.Equal(SealResult.Sealed, await vault.SealPlaintextAsync(BlobScope.Master, digest, Ct));
        Assert.Equal(SealResult.AlreadySealed, await vault.SealPlaintextAsync(BlobScope.Master, digest, Ct));
        var copy = await vault.FindSealedAsync(BlobScope.Master, digest, Ct);
        Assert.NotNull(copy);
        Assert.Equal(content.Length, copy.Size);

        // The migration removes the plaintext; every read (whole and ranged) is then the sealed copy's.
        Assert.True(await vault.DeletePlaintextAsync(digest, Ct));
        Assert.Null(await blobs.StatAsync(digest, Ct));
        Assert.Equal(content, await ReadAsync(vault, digest, 0, null));
        Assert.Equal(content[(SealedFormat.SegmentSize - 3)..(SealedFormat.SegmentSize + 5)], await ReadAsync(vault, digest, SealedFormat.SegmentSize - 3, 8));
        Assert.Equal(content.Length, (await vault.StatAsync(BlobScope.Master, digest, Ct))!.Size);
        Assert.Null(await vault.GetDownloadUrlAsync(BlobScope.Master, digest, TimeSpan.FromMinutes(5), Ct));

        // A fresh node (nothing remembered) reads it too; deleting the copy removes record and bytes.
        var other = await VaultAsync(blobs);
        Assert.Equal(content, await ReadAsync(other, digest, 0, null));
        Assert.True(await other.DeleteAsync(BlobScope.Master, digest, Ct));
        Assert.Null(await blobs.StatAsync(copy.Address, Ct));
        Assert.Null(await other.OpenReadAsync(BlobScope.Master, digest, 0, null, Ct));
        Assert.Null(await vault.OpenReadAsync(BlobScope.Master, digest, 0, null, Ct)); // remembered, gone: looked up again
    }

    [Fact]
    public async Task A_plaintext_blob_that_does_not_hash_to_its_digest_is_not_sealed()
    {
        var blobs = await StoreAsync("fs");
        var vault = await VaultAsync(blobs);
        var digest = Digest.Sha256Of([9, 9, 9]);
        await WritePlaintextAsync(blobs, digest, [1, 2, 3]);
        await Assert.ThrowsAsync<InvalidDataException>(() => vault.SealPlaintextAsync(BlobScope.Master, digest, Ct));
        Assert.Null(await vault.FindSealedAsync(BlobScope.Master, digest, Ct));
        Assert.Empty(await ListUploadsAsync(blobs));
    }

    [Fact]
    public async Task With_sealing_off_uploads_commit_plaintext_at_the_digest()
    {
        var blobs = await StoreAsync("fs");
        var vault = await VaultAsync(blobs, seal: false);
        var content = RandomNumberGenerator.GetBytes(1000);
        var digest = Digest.Sha256Of(content);
        await vault.CreateUploadAsync("plain", Ct);
        var chunk = await vault.WriteUploadChunkAsync(BlobScope.Master, "plain", [], new MemoryStream(content), content.Length, Ct);
        await vault.CommitUploadAsync(BlobScope.Master, "plain", [chunk], digest, Ct);
        Assert.NotNull(await blobs.StatAsync(digest, Ct));
        Assert.Null(await vault.FindSealedAsync(BlobScope.Master, digest, Ct));
        Assert.Equal(SealResult.Disabled, await vault.SealPlaintextAsync(BlobScope.Master, digest, Ct));
    }

    private static async Task WritePlaintextAsync(IBlobStore blobs, Digest digest, byte[] content)
    {
        var id = "legacy-" + Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(id, Ct);
        var chunk = await blobs.WriteUploadChunkAsync(id, 0, new MemoryStream(content), content.Length, Ct);
        await blobs.CommitUploadAsync(id, [chunk], digest, Ct);
    }

    private static async Task<byte[]> ReadAsync(IBlobVault vault, Digest digest, long offset, long? length)
    {
        await using var stream = await vault.OpenReadAsync(BlobScope.Master, digest, offset, length, Ct);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    private static async Task<List<string>> ListUploadsAsync(IBlobStore blobs)
    {
        var ids = new List<string>();
        await foreach (var id in blobs.ListUploadsAsync(Ct))
        {
            ids.Add(id);
        }

        return ids;
    }

    private async Task<IBlobStore> StoreAsync(string backend)
    {
        if (backend == "fs")
        {
            return new FileSystemBlobStore(Path.Combine(directory, "blobs"));
        }

        s3 = new S3BlobStore(await S3TestBucket.OptionsAsync(prefix));
        return s3;
    }

    private async Task<SealedBlobVault> VaultAsync(IBlobStore blobs, bool seal = true)
    {
        if (metadata is null)
        {
            Directory.CreateDirectory(directory);
            metadata = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"));
            await metadata.MigrateAsync(Ct);
        }

        return new SealedBlobVault(blobs, metadata, keys, new BlobVaultSettings(seal), TimeProvider.System);
    }
}
