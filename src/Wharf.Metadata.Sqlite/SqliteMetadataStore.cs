using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// The embedded metadata store: one SQLite file in WAL mode, many readers, one writer at a time
/// (docs/metadata.md). Construct, then <see cref="MigrateAsync"/> before use.
/// </summary>
public sealed class SqliteMetadataStore : IMetadataStore
{
    private readonly SqliteDatabase _file;
    private readonly Database _database;
    private readonly TimeProvider _time;

    /// <summary>Opens (creating it and its directory if needed) the database at <paramref name="databasePath"/>.</summary>
    public SqliteMetadataStore(string databasePath)
        : this(databasePath, TimeProvider.System)
    {
    }

    public SqliteMetadataStore(string databasePath, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        ArgumentNullException.ThrowIfNull(time);
        var fullPath = Path.GetFullPath(databasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        DatabasePath = fullPath;
        _time = time;
        _file = new SqliteDatabase(fullPath);
        var database = _database = new Database(new SqliteDialect(_file));
        Repositories = new RepositoryStore(database);
        Blobs = new SqliteBlobIndex(database);
        Images = new ImageStore(database, new SqliteReferenceCheck());
        Uploads = new UploadStore(database);
        Leases = new JobLeaseStore(database);
        Keys = new ServerKeyStore(database);
        SealedCopies = new SealedCopyStore(database);
        Lifecycle = new LifecycleStore(database);
        Vulnerabilities = new VulnerabilityStore(database);
        Scans = new ScanStore(database);
        Identities = new IdentityStore(database);
        Events = new EventLog(database);
        Replications = new ReplicationStore(database);
        PullThroughCache = new PullThroughCacheStore(database);
        Secrets = new SecretStore(database);
        Public = new PublicRegistryStore(database);
        Logins = new LoginStore(database);
        Audit = new AuditStore(database);
        Webhooks = new WebhookStore(database);
        Kms = new KmsStore(database);
    }

    public string Backend => "sqlite";

    /// <summary>The connections to the file (for tests).</summary>
    internal SqliteDatabase Connections => _file;

    /// <summary>The read cache of the data plane's hottest reads (for tests); null until its change stamp is armed.</summary>
    internal ReadCache? ReadCache => _file.Watch.IsArmed ? _database.Cache : null;

    /// <summary>Absolute path of the database file.</summary>
    public string DatabasePath { get; }

    public IRepositoryStore Repositories { get; }

    public IBlobIndex Blobs { get; }

    public IImageStore Images { get; }

    public IUploadStore Uploads { get; }

    public IJobLeaseStore Leases { get; }

    public IServerKeyStore Keys { get; }

    public Core.Encryption.ISealedCopyStore SealedCopies { get; }

    public ILifecycleStore Lifecycle { get; }

    public IVulnerabilityStore Vulnerabilities { get; }

    public IScanStore Scans { get; }

    public IIdentityStore Identities { get; }

    public IEventLog Events { get; }

    public IReplicationStore Replications { get; }

    public IPullThroughCacheStore PullThroughCache { get; }

    public Core.Secrets.ISecretStore Secrets { get; }

    public IPublicRegistryStore Public { get; }

    public ILoginStore Logins { get; }

    public Core.Audit.IAuditStore Audit { get; }

    public Core.Webhooks.IWebhookStore Webhooks { get; }


    public Core.Kms.IKmsStore Kms { get; }

    /// <summary>Migrates the file, then arms the read cache's change stamp (<see cref="SqliteWalWatch"/>), which needs WAL mode.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await SqliteMigrator.MigrateAsync(_file, _database, _time, cancellationToken);
        await _file.Watch.ArmAsync(_file.OpenAsync, cancellationToken);
    }

    /// <summary>
    /// False when the database file is gone: pooled connections would keep answering from the
    /// unlinked file while every write since is lost at the next start.
    /// </summary>
    public Task<bool> PingAsync(CancellationToken cancellationToken) =>
        File.Exists(DatabasePath)
            ? _database.ReadAsync(s => s.ExistsAsync("SELECT 1 FROM schema_migrations LIMIT 1", [], cancellationToken), cancellationToken)
            : Task.FromResult(false);

    public ValueTask DisposeAsync()
    {
        _file.Watch.Dispose();
        _file.ClearPool();
        return ValueTask.CompletedTask;
    }
}
