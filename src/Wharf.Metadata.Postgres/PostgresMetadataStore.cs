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

    public PostgresMetadataStore(string connectionString)
        : this(connectionString, TimeProvider.System)
    {
    }

    public PostgresMetadataStore(string connectionString, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        this.time = time;
        dataSource = NpgsqlDataSource.Create(connectionString);
        var relational = database = new Database(new PgDialect(dataSource));
        Repositories = new RepositoryStore(relational);
        Blobs = new PgBlobIndex(relational);
        Images = new ImageStore(relational, new PgReferenceCheck());
        Uploads = new UploadStore(relational);
        Leases = new JobLeaseStore(relational);
        Keys = new ServerKeyStore(relational);
        Lifecycle = new LifecycleStore(relational);
        Vulnerabilities = new VulnerabilityStore(relational);
        Scans = new ScanStore(relational);
        Identities = new IdentityStore(relational);
        Events = new EventLog(relational);
    }

    public string Backend => "postgres";

    public IRepositoryStore Repositories { get; }

    public IBlobIndex Blobs { get; }

    public IImageStore Images { get; }

    public IUploadStore Uploads { get; }

    public IJobLeaseStore Leases { get; }

    public IServerKeyStore Keys { get; }

    public ILifecycleStore Lifecycle { get; }

    public IVulnerabilityStore Vulnerabilities { get; }

    public IScanStore Scans { get; }

    public IIdentityStore Identities { get; }

    public IEventLog Events { get; }

    public Task MigrateAsync(CancellationToken cancellationToken) => PgMigrator.MigrateAsync(database, time, cancellationToken);

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
    /// Null when the server at <paramref name="connectionString"/> answers, else one readable line
    /// saying what failed (for a fail-fast start without a stack trace).
    /// </summary>
    public static async Task<string?> ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5, Pooling = false };
        }
        catch (ArgumentException e)
        {
            return $"the PostgreSQL connection string is invalid: {e.Message}";
        }

        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            return $"cannot connect to PostgreSQL at {builder.Host}:{builder.Port} (database '{builder.Database}'): {reason}";
        }
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
