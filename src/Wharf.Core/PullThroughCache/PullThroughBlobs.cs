using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Core.Uploads;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// Blob reads of /v2: <see cref="BlobService"/> first (a linked blob costs what it did); a blob that is not
/// linked to a repository a rule covers is read through <see cref="UpstreamBlobFetcher"/>, streamed while it
/// is stored, for a caller who may pull it and <c>ecr:BatchImportUpstreamImage</c>.
/// </summary>
public sealed class PullThroughBlobs(BlobService blobs, PullThroughCacheService pullThrough, IMetadataStore store, IAccessAuthorizer authorizer, UpstreamBlobFetcher fetcher)
{
    /// <summary>
    /// HEAD: the blob's size. An uncached blob is opened through the cache (the fetch starts, so the GET that
    /// follows joins it) and its size is the one the upstream declared, or the stored one when it declared none.
    /// </summary>
    public async Task<long> StatAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            return (await blobs.StatAsync(caller, key, digest, cancellationToken)).Size;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUnknown)
        {
            await using var read = await OpenUncachedAsync(caller, key, digest, null, EcrActions.BatchCheckLayerAvailability, e, cancellationToken);
            return read.Size;
        }
    }

    /// <summary>GET: as <see cref="BlobService.OpenAsync"/>, through the cache for a blob not yet linked.</summary>
    public async Task<BlobRead> OpenAsync(Caller caller, RepositoryKey key, Digest digest, ByteRange? range, CancellationToken cancellationToken)
    {
        try
        {
            return await blobs.OpenAsync(caller, key, digest, range, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUnknown)
        {
            return await OpenUncachedAsync(caller, key, digest, range, EcrActions.GetDownloadUrlForLayer, e, cancellationToken);
        }
    }

    /// <summary>GET with redirects: a blob not yet cached has no URL (null): it is streamed through the cache.</summary>
    public async Task<Uri?> GetDownloadUrlAsync(Caller caller, RepositoryKey key, Digest digest, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        try
        {
            return await blobs.GetDownloadUrlAsync(caller, key, digest, lifetime, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.BlobUnknown)
        {
            if (await pullThrough.MatchAsync(key, fresh: false, cancellationToken) is null)
            {
                throw;
            }

            return null;
        }
    }

    private async Task<BlobRead> OpenUncachedAsync(Caller caller, RepositoryKey key, Digest digest, ByteRange? range, string pullAction, WharfException unknown, CancellationToken cancellationToken)
    {
        // The blob service found the repository and authorised the pull; a miss in a covered repository is an import.
        if (await pullThrough.MatchAsync(key, fresh: false, cancellationToken) is not var (rule, upstreamRepository)
            || await store.Repositories.GetAsync(key, cancellationToken) is not { } repository)
        {
            throw unknown;
        }

        await authorizer.AuthorizeAsync(caller, pullAction, key.Arn, cancellationToken);
        try
        {
            await authorizer.AuthorizeAsync(caller, EcrActions.BatchImportUpstreamImage, key.Arn, cancellationToken);
        }
        catch (WharfException denied) when (denied.Code == WharfErrorCode.Denied)
        {
            throw unknown;
        }

        try
        {
            var upstream = await pullThrough.ConnectAsync(key, rule, cancellationToken);
            return await fetcher.OpenAsync(repository, digest, range, c => upstream.OpenBlobAsync(upstreamRepository, digest, c), cancellationToken);
        }
        catch (UpstreamException e)
        {
            throw e.Failure switch
            {
                UpstreamFailure.NotFound => unknown,
                UpstreamFailure.Unavailable => new WharfException(WharfErrorCode.UpstreamLayerUnavailable, $"{ErrorCatalogue.Describe(WharfErrorCode.UpstreamLayerUnavailable).DefaultMessage} {e.Message}"),
                _ => PullThroughCacheService.Refusal(e),
            };
        }
    }
}
