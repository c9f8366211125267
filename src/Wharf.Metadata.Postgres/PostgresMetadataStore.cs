using Npgsql;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary><see cref="IMetadataStore"/> on PostgreSQL, for several stateless nodes sharing one database.</summary>
public sealed class PostgresMetadataStore : IMetadataStore
{
    private readonly NpgsqlDataSource dataSource;
    private readonly Database database;
    private readonly TimeProvider time;
    private readonly PgChangeWatch? changes;
    private readonly PgWarmPool? warm;

    public PostgresMetadataStore(string connectionString)
        : this(connectionString, TimeProvider.System)
    {
    }

    public PostgresMetadataStore(string connectionString, TimeProvider time)
        : this(connectionString, time, readCache: true)
    {
    }

    /// <param name="connectionString">An Npgsql connection string (<see cref="Tune"/> adds Wharf's pool defaults).</param>
    /// <param name="time">The clock.</param>
    /// <param name="readCache">
    /// Keep manifest and linked-blob reads while nothing has changed, with another node's commit seen within
    /// <see cref="PgChangeWatch.DefaultBound"/> (<see cref="PgChangeWatch"/>); false reads the database every time.
    /// </param>
    public PostgresMetadataStore(string connectionString, TimeProvider time, bool readCache)
    {
        ArgumentNullException.ThrowIfNull(time);
        this.time = time;
        var tuned = Tune(connectionString);
        (warm, var main) = PgWarmPool.Create(new NpgsqlConnectionStringBuilder(tuned));
        dataSource = NpgsqlDataSource.Create(main);
        changes = readCache ? new PgChangeWatch(tuned, dataSource, time) : null;
        var relational = database = new Database(new PgDialect(dataSource, changes, warm));
        Repositories = new RepositoryStore(relational);
        Blobs = new PgBlobIndex(relational);
        Images = new ImageStore(relational, new PgReferenceCheck());
        Uploads = new UploadStore(relational);
        Leases = new JobLeaseStore(relational);
        Keys = new ServerKeyStore(relational);
        SealedCopies = new SealedCopyStore(relational);
        Lifecycle = new LifecycleStore(relational);
        Vulnerabilities = new VulnerabilityStore(relational);
        Scans = new ScanStore(relational);
        Identities = new IdentityStore(relational);
        Events = new EventLog(relational);
        Replications = new ReplicationStore(relational);
        PullThroughCache = new PullThroughCacheStore(relational);
        Secrets = new SecretStore(relational);
        Public = new PublicRegistryStore(relational);
        Logins = new LoginStore(relational);
        Audit = new AuditStore(relational);
        Webhooks = new WebhookStore(relational);
        Kms = new KmsStore(relational);
    }

    public string Backend => "postgres";

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

    /// <summary>The read cache's change watch, null when the cache is off (for tests).</summary>
    internal PgChangeWatch? Changes => changes;

    /// <summary>The store's connections, to read what PostgreSQL keeps per session (for tests).</summary>
    internal Database Database => database;

    /// <summary>The read cache of the data plane's hottest reads (for tests); null when it is off.</summary>
    internal ReadCache? ReadCache => changes is null ? null : database.Cache;

    /// <summary>
    /// Migrates the schema, then lets the read cache's watch start (its triggers are in place): it opens its listener at
    /// the first cached read, so a command that reads no manifest or blob opens none.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await PgMigrator.MigrateAsync(database, time, cancellationToken);
        changes?.Allow();
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            return await command.ExecuteScalarAsync(cancellationToken) is 1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The connection string with Wharf's pool defaults where it does not set them itself: connections
    /// go back to the pool without a <c>DISCARD ALL</c> round trip (<c>No Reset On Close</c>; Wharf keeps
    /// no session state: its advisory locks are transaction-scoped) and the statements a node runs most
    /// are prepared once per connection (<c>Max Auto Prepare=64</c>). Together they double manifest GETs
    /// per second on one PostgreSQL (bench/RESULTS.md, "Cluster"). A key the operator wrote wins.
    /// </summary>
    public static string Tune(string connectionString)
    {
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var keys = written.Keys.Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!keys.Contains("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!keys.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Null when the server at <paramref name="connectionString"/> answers, else one readable line
    /// saying what failed (for a fail-fast start without a stack trace).
    /// </summary>
    public static async Task<string?> ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            // One unpooled connection (multiplexing needs the pool, so it is off for the probe too).
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5, Pooling = false, Multiplexing = false };
        }
        catch (ArgumentException e)
        {
            return $"the PostgreSQL connection string is invalid: {e.Message}";
        }

        try
        {
            // It runs no statement, so it skips the driver's load of the server's types: a query of its own, run once
            // per data source (the store's pool loads them for itself).
            var probe = new NpgsqlSlimDataSourceBuilder(builder.ConnectionString);
            probe.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
            await using var dataSource = probe.Build();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            return $"cannot connect to PostgreSQL at {builder.Host}:{builder.Port} (database '{builder.Database}'): {reason}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (changes is not null)
        {
            await changes.DisposeAsync();
        }

        if (warm is not null)
        {
            await warm.DisposeAsync();
        }

        await dataSource.DisposeAsync();
    }
}
