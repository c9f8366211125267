using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary>
/// <see cref="IBlobStore"/> on an S3-compatible bucket. Committed blobs live at
/// <c>&lt;prefix&gt;/blobs/&lt;alg&gt;/&lt;first two hex&gt;/&lt;hex&gt;</c>; an upload is a chain of
/// chunk objects <c>&lt;prefix&gt;/uploads/&lt;id&gt;/&lt;start offset, 20 digits&gt;</c> beside a
/// <c>created</c> marker (see the Uploads part). An object appears at a blob key only by one atomic
/// S3 write (copy, or multipart complete), so readers never see a partial blob. Nothing is held per
/// node: any instance over the same bucket and prefix continues any upload.
/// </summary>
public sealed partial class S3BlobStore : IBlobStore, IDisposable
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _root;
    private readonly S3Failures _failures;
    private readonly S3DataPath _data;

    public S3BlobStore(S3BlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Bucket);
        Options = options;
        _bucket = options.Bucket;
        var prefix = options.Prefix.Trim('/');
        _root = prefix.Length == 0 ? "" : prefix + "/";
        _client = CreateClient(options);
        _failures = new S3Failures(options.Bucket, string.IsNullOrEmpty(options.Endpoint) ? $"AWS S3 in {options.Region}" : options.Endpoint);
        _data = new S3DataPath(_client, _bucket, SigningProtocol, _failures);
    }

    public S3BlobStoreOptions Options { get; }

    /// <summary>The client, for tests that set up what a crashed node would leave behind.</summary>
    internal IAmazonS3 Client => _client;

    internal string Bucket => _bucket;

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        // One listed key under the prefix proves the endpoint answers, the bucket exists and the
        // credentials may read it; the short timeout keeps readiness from hanging on a dead endpoint.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _root, MaxKeys = 1 }, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BlobStoreUnavailableException($"{_failures.Endpoint} did not answer within {CheckTimeout.TotalSeconds:0} s", e);
        }
        catch (Exception e) when (_failures.Classify(e, notFoundIsFault: true, cancellationToken) is { } reason)
        {
            throw new BlobStoreUnavailableException(reason, e);
        }
    }

    public async Task<BlobStat?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(BlobKey(digest), cancellationToken);
        return head is null ? null : new BlobStat(digest, head.ContentLength, ToOffset(head.LastModified));
    }

    public async Task<Stream?> OpenReadAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } requested)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(requested, nameof(length));
        }

        var key = BlobKey(digest);
        if (length != 0)
        {
            // A whole read asks for no range: it is also how an empty blob reads.
            var ranged = offset > 0 || length is not null;
            try
            {
                return await _data.GetAsync(key, ranged ? offset : null, length is { } count ? offset + count - 1 : null, cancellationToken);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // Below: the offset is at or past the end, or the blob is empty.
            }
        }

        // An empty range, or one S3 could not satisfy: the size says whether that is an empty read
        // or a bad offset (or the blob went away meanwhile).
        var head = await HeadAsync(key, cancellationToken);
        if (head is null)
        {
            return null;
        }

        if (offset > head.ContentLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The blob has only {head.ContentLength} bytes.");
        }

        return Stream.Null;
    }

    public async Task<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        // S3 deletes are silent about absence: the HEAD gives the answer the contract asks for.
        var key = BlobKey(digest);
        if (await HeadAsync(key, cancellationToken) is null)
        {
            return false;
        }

        await CallAsync(ct => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, ct), cancellationToken);
        return true;
    }

    public async IAsyncEnumerable<BlobStat> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var blobsRoot = _root + "blobs/";
        await foreach (var item in ListObjectsAsync(blobsRoot, cancellationToken))
        {
            if (ParseBlobKey(item.Key.AsSpan(blobsRoot.Length)) is { } digest)
            {
                yield return new BlobStat(digest, item.Size ?? 0, ToOffset(item.LastModified));
            }
        }
    }

    public async Task<Uri?> GetDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        await CallAsync(_ => _data.SignAsync(HttpVerb.GET, BlobKey(digest), lifetime), cancellationToken);

    public void Dispose()
    {
        _data.Dispose();
        _client.Dispose();
    }

    /// <summary>The scheme of presigned URLs: the endpoint's own (a local gateway may be plain HTTP), else HTTPS.</summary>
    private Protocol SigningProtocol =>
        Options.Endpoint is { } endpoint && endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;

    private static AmazonS3Client CreateClient(S3BlobStoreOptions options)
    {
        var checksums = options.Checksums == S3ChecksumMode.WhenRequired;
        var config = new AmazonS3Config
        {
            RequestChecksumCalculation = checksums ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = checksums ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
            // Standard retries (3 attempts, jittered backoff) ride out a blip; a longer outage becomes
            // BlobStoreUnavailableException and a retryable 503 for the client.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 3,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // Server-side copies of multi-GiB blobs answer only when done.
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (string.IsNullOrEmpty(options.Endpoint))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        else
        {
            config.ServiceURL = options.Endpoint;
            config.AuthenticationRegion = options.Region;
        }

        config.ForcePathStyle = options.ForcePathStyle;

        return options.AccessKeyId is { Length: > 0 } accessKey
            ? new AmazonS3Client(new BasicAWSCredentials(accessKey, options.SecretAccessKey ?? ""), config)
            : new AmazonS3Client(config);
    }

    private string BlobKey(Digest digest) => $"{_root}blobs/{digest.AlgorithmName}/{digest.Hex[..2]}/{digest.Hex}";

    /// <summary>The digest of <c>&lt;alg&gt;/&lt;hh&gt;/&lt;hex&gt;</c>, or null for anything else under blobs/.</summary>
    private static Digest? ParseBlobKey(ReadOnlySpan<char> relative)
    {
        var firstSlash = relative.IndexOf('/');
        if (firstSlash <= 0)
        {
            return null;
        }

        var algorithm = relative[..firstSlash];
        var rest = relative[(firstSlash + 1)..];
        if (rest.Length < 3 || rest[2] != '/')
        {
            return null;
        }

        var shard = rest[..2];
        var hex = rest[3..];
        return hex.StartsWith(shard, StringComparison.Ordinal) && Digest.TryParse($"{algorithm}:{hex}", out var digest) ? digest : null;
    }

    private static DateTimeOffset ToOffset(DateTime? modified) =>
        modified is { } value ? new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UnixEpoch;

    /// <summary>The object's headers, or null when it is absent.</summary>
    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(ct => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct), cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }


    private async IAsyncEnumerable<S3Object> ListObjectsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var page = await CallAsync(ct => _client.ListObjectsV2Async(request, ct), cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                yield return item;
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>Runs one S3 call under <see cref="S3Failures.GuardAsync"/>.</summary>
    private Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _failures.GuardAsync(call, cancellationToken);
}
