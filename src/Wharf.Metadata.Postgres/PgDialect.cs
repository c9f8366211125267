using System.Data;
using System.Data.Common;
using Npgsql;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// PostgreSQL's fragments. A write transaction is READ COMMITTED: each statement sees what committed
/// before it began, and rows that must not change under a decision are locked <c>FOR UPDATE</c>
/// (see <see cref="PgBlobIndex.ClaimGarbageAsync"/> for why the GC relies on that).
/// </summary>
internal sealed class PgDialect(NpgsqlDataSource dataSource) : SqlDialect
{
    public override string ForUpdate => " FOR UPDATE";

    public override string InList(string column, string parameter) => $"{column} = ANY(@{parameter})";

    public override string ListRows(string parameter) => $"SELECT u.value FROM unnest(@{parameter}) AS u(value)";

    public override object ListValue(IEnumerable<string> values) => values.ToArray();

    public override bool IdsCommitInOrder => false;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await dataSource.OpenConnectionAsync(cancellationToken);

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
}
