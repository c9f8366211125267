namespace Wharf.Storage.S3;

/// <summary>When the S3 client adds and checks flexible checksums (AWSSDK.S3 4.x sends them by default).</summary>
public enum S3ChecksumMode
{
    /// <summary>Only where the operation requires one: what most S3-compatible servers (Ceph RGW, older MinIO) accept.</summary>
    WhenRequired,

    /// <summary>On every request and response that supports one: the SDK's default, for AWS S3.</summary>
    WhenSupported,
}

/// <summary>The <c>Storage:S3:*</c> settings the S3 blob store is built from.</summary>
public sealed record S3BlobStoreOptions
{
    /// <summary>The bucket (must exist).</summary>
    public required string Bucket { get; init; }

    /// <summary>The service URL (<c>http://127.0.0.1:7480</c>); null or empty means AWS S3 in <see cref="Region"/>.</summary>
    public string? Endpoint { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Addresses the bucket in the path (<c>host/bucket/key</c>), as most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>A key prefix every object Wharf writes lives under (empty, or ending without '/'; one is added).</summary>
    public string Prefix { get; init; } = "";

    /// <summary>Static credentials; when both are null the AWS SDK's default credential chain is used.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    public S3ChecksumMode Checksums { get; init; } = S3ChecksumMode.WhenRequired;
}
