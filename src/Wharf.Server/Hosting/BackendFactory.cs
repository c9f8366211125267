using Wharf.Core.Metadata;
using Wharf.Core.Storage;
using Wharf.Metadata.Postgres;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.FileSystem;

namespace Wharf.Server.Hosting;

/// <summary>Picks and constructs the configured backends.</summary>
internal static class BackendFactory
{
    public static IBlobStore CreateBlobStore(WharfOptions options) => options.Storage.Backend switch
    {
        StorageBackend.FileSystem => new FileSystemBlobStore(options.Storage.Path ?? Path.Combine(options.DataDirectory, "blobs")),
        _ => throw new NotSupportedException($"Storage backend '{options.Storage.Backend}' is not supported."),
    };

    public static IMetadataStore CreateMetadataStore(WharfOptions options) => options.Metadata.Backend switch
    {
        MetadataBackend.Sqlite => new SqliteMetadataStore(options.Metadata.ConnectionString ?? Path.Combine(options.DataDirectory, "wharf.db")),
        MetadataBackend.Postgres => new PostgresMetadataStore(options.Metadata.ConnectionString
            ?? throw new InvalidOperationException("Metadata:ConnectionString (--metadata-connection) is required with the PostgreSQL backend.")),
        _ => throw new NotSupportedException($"Metadata backend '{options.Metadata.Backend}' is not supported."),
    };
}
