using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Storage.S3;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>
/// Where the S3 blob-store tests put their objects: one bucket of the run's RGW, created on first
/// use, and a key prefix per test (which is what the store's Prefix setting is for).
/// </summary>
internal static class S3TestBucket
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? bucket;

    public static async Task<S3BlobStoreOptions> OptionsAsync(string prefix)
    {
        var rgw = await RgwServer.GetAsync();
        await Gate.WaitAsync();
        try
        {
            bucket ??= await rgw.CreateBucketAsync("wharf-blobs");
        }
        finally
        {
            Gate.Release();
        }

        return rgw.OptionsFor(bucket, prefix);
    }

    /// <summary>Deletes every object and aborts every multipart upload under <paramref name="prefix"/>.</summary>
    public static async Task EmptyPrefixAsync(IAmazonS3 client, string bucket, string prefix)
    {
        try
        {
            var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = prefix });
            foreach (var upload in uploads.MultipartUploads ?? [])
            {
                await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = upload.Key, UploadId = upload.UploadId });
            }

            var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
            while (true)
            {
                var page = await client.ListObjectsV2Async(request);
                foreach (var item in page.S3Objects ?? [])
                {
                    await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = item.Key });
                }

                if (page.IsTruncated != true)
                {
                    break;
                }

                request.ContinuationToken = page.NextContinuationToken;
            }
        }
        catch (AmazonServiceException)
        {
            // Cleanup of a prefix nobody reads again: a failure here must not hide the test's result.
        }
    }
}
