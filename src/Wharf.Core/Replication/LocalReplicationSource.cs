using Wharf.Core.Encryption;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Replication;

/// <summary>This Wharf as the source of a copy: manifests from the metadata store, blobs streamed from the blob store through the vault.</summary>
public sealed class LocalReplicationSource(IMetadataStore store, IBlobVault vault) : IReplicationSource
{
    public async Task<ReplicationManifest?> GetManifestAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken)
    {
        if (await store.Repositories.GetAsync(source, cancellationToken) is not { } repository
            || await store.Images.GetManifestAsync(repository.Id, digest, cancellationToken) is not { } record)
        {
            return null;
        }

        var parsed = ParsedManifest.Parse(record.Content, record.MediaType);
        return new ReplicationManifest(
            record.Digest,
            record.MediaType,
            record.Content,
            parsed.Blobs.Select(b => (b, parsed.Sizes.GetValueOrDefault(b))).ToList(),
            parsed.Children);
    }

    // Read under the source repository's key (its sealed copy, or plaintext from before encryption).
    public async Task<Stream> OpenBlobAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken) =>
        (await store.Repositories.GetAsync(source, cancellationToken) is { } repository
            ? await vault.OpenReadAsync(BlobScope.Of(repository.Settings), digest, 0, null, cancellationToken)
            : null)
            ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The blob {digest} is gone from the source.", retryable: false);
}
