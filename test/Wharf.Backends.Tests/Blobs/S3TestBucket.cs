using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Storage.S3;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Blobs;

/// <summary>Where the S3 blob-store tests put their objects: one bucket of the test RGW, a prefix per test.</summary>
internal static class S3TestBucket
{
    public static Task<S3BlobStoreOptions> OptionsAsync(string prefix)
    {
        var endpoint = Environment.GetEnvironmentVariable("WHARF_TEST_S3_ENDPOINT");
        if (string.IsNullOrEmpty(endpoint))
        {
            Requires.Missing("no S3 server: WHARF_TEST_S3_ENDPOINT is not set");
        }

        return Task.FromResult(new S3BlobStoreOptions
        {
            Bucket = Environment.GetEnvironmentVariable("WHARF_TEST_S3_BUCKET") ?? "registry-test",
            Endpoint = endpoint,
            ForcePathStyle = true,
            Prefix = prefix,
            AccessKeyId = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"),
            SecretAccessKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"),
            Checksums = S3ChecksumMode.WhenRequired,
        });
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
