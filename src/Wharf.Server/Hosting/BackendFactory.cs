using Wharf.Core.Metadata;
using Wharf.Core.Storage;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.FileSystem;
using Wharf.Storage.S3;

namespace Wharf.Server.Hosting;

/// <summary>Picks and constructs the configured backends.</summary>
internal static class BackendFactory
{
    public static IBlobStore CreateBlobStore(WharfOptions options) => options.Storage.Backend switch
    {
        StorageBackend.FileSystem => new FileSystemBlobStore(options.Storage.Path ?? Path.Combine(options.DataDirectory, "blobs"), options.Storage.DirectWrites),
        StorageBackend.S3 => new S3BlobStore(CreateS3Options(options.Storage.S3)),
        _ => throw new NotSupportedException($"Storage backend '{options.Storage.Backend}' is not supported."),
    };

    /// <summary>The S3 store's options; <see cref="WharfOptionsValidator"/> has checked them (a bucket is named).</summary>
    public static S3BlobStoreOptions CreateS3Options(S3StorageOptions s3) => new()
    {
        Bucket = s3.Bucket ?? throw new InvalidOperationException("Storage:S3:Bucket is required with the S3 backend."),
        Endpoint = string.IsNullOrWhiteSpace(s3.Endpoint) ? null : s3.Endpoint,
        Region = s3.Region,
        ForcePathStyle = s3.ForcePathStyle,
        Prefix = s3.Prefix,
        AccessKeyId = string.IsNullOrEmpty(s3.AccessKeyId) ? null : s3.AccessKeyId,
        SecretAccessKey = string.IsNullOrEmpty(s3.SecretAccessKey) ? null : s3.SecretAccessKey,
        Checksums = s3.Checksums,
    };

    /// <summary>Where the blobs are, for the start-up log line: never a secret.</summary>
    public static string DescribeBlobStore(WharfOptions options) => options.Storage.Backend switch
    {
        StorageBackend.S3 => $"s3://{options.Storage.S3.Bucket}/{options.Storage.S3.Prefix}" + (Uri.TryCreate(options.Storage.S3.Endpoint, UriKind.Absolute, out var endpoint) ? $" at {endpoint.GetComponents(UriComponents.SchemeAndServer, UriFormat.Unescaped)}" : ""),
        _ => options.Storage.Path ?? Path.Combine(options.DataDirectory, "blobs"),
    };

    public static IMetadataStore CreateMetadataStore(WharfOptions options) => options.Metadata.Backend switch
    {
        MetadataBackend.Sqlite => new SqliteMetadataStore(options.Metadata.ConnectionString ?? Path.Combine(options.DataDirectory, "wharf.db")),
        MetadataBackend.Postgres => new PostgresMetadataStore(
            options.Metadata.ConnectionString
                ?? throw new InvalidOperationException("Metadata:ConnectionString (--metadata-connection) is required with the PostgreSQL backend."),
            TimeProvider.System,
            options.Metadata.Postgres.ReadCache),
        _ => throw new NotSupportedException($"Metadata backend '{options.Metadata.Backend}' is not supported."),
    };
}
