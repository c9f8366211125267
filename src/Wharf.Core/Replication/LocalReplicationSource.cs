using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.Replication;

/// <summary>This Wharf as the source of a copy: manifests from the metadata store, blobs streamed from the blob store.</summary>
public sealed class LocalReplicationSource(IMetadataStore store, IBlobStore blobs) : IReplicationSource
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

    public async Task<Stream> OpenBlobAsync(Digest digest, CancellationToken cancellationToken) =>
        await blobs.OpenReadAsync(digest, 0, null, cancellationToken)
            ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"The blob {digest} is gone from the source.", retryable: false);
}
