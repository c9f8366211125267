using System.Data;
using System.Data.Common;
using System.Text.Json;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// SQLite's fragments. A write transaction is <c>BEGIN IMMEDIATE</c>: it takes the single writer
/// lock up front, so writers are serialised (GC's claim and a manifest PUT exclude each other), no
/// row lock is needed, and a transaction never fails half-way on a read-to-write lock upgrade.
/// </summary>
internal sealed class SqliteDialect(SqliteDatabase database) : SqlDialect
{
    public override string ForUpdate => "";

    public override string InList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each(@{parameter}))";

    public override string ListRows(string parameter) => $"SELECT value FROM json_each(@{parameter})";

    public override object ListValue(IEnumerable<string> values) => JsonSerializer.Serialize(values.ToArray(), RelationalJsonContext.Default.StringArray);

    // A rolled-back insert also rolls back AUTOINCREMENT's counter, so no id is ever skipped either.
    public override bool IdsCommitInOrder => true;

    public override string IndexedBy(string index) => $" INDEXED BY {index}";

    // Microsoft.Data.Sqlite looks a bare name up as written, then with each of @, $ and : in front (four lookups and
    // three new strings per parameter, on every execution of a kept statement); with its prefix it is one lookup.
    // The names are the stores' constants (and a few numbered ones), so the prefixed ones are made once; kept to a bound.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Prefixed = new(StringComparer.Ordinal);

    public override string ParameterName(string name) =>
        Prefixed.TryGetValue(name, out var prefixed) ? prefixed
        : Prefixed.Count < 1024 ? Prefixed.GetOrAdd(name, static n => "@" + n)
        : "@" + name;

    public override IChangeWatch? Changes => database.Watch;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await database.OpenAsync(cancellationToken);

    public override async ValueTask<ConnectionLease> LeaseAsync(CancellationToken cancellationToken) => await database.LeaseAsync(cancellationToken);

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // deferred: false is BEGIN IMMEDIATE in Microsoft.Data.Sqlite.
        Task.FromResult<DbTransaction>(((Microsoft.Data.Sqlite.SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: false));
}
