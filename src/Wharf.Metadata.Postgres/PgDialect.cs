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
internal sealed class PgDialect(NpgsqlDataSource dataSource, PgChangeWatch? changes = null, PgWarmPool? warm = null) : SqlDialect
{
    public override string ForUpdate => " FOR UPDATE";

    public override string InList(string column, string parameter) => $"{column} = ANY(@{parameter})";

    public override string ListRows(string parameter) => $"SELECT u.value FROM unnest(@{parameter}) AS u(value)";

    public override object ListValue(IEnumerable<string> values) => values.ToArray();

    // Statements are auto-prepared, and after five executions PostgreSQL runs a prepared statement on its generic
    // plan, which prices "repository_id = $1" at the table's average repository: a few rows. A repository far above
    // the average then paid for its every row. Measured on 20,000 repositories and 115,000 images (bench/RESULTS.md,
    // session 35): the tags of a DescribeImages page, "digest = ANY($2)", became a filter over the 10,000 tags of
    // the page's repository (43 ms; 0.28 ms as one lookup per digest), and the untagged half of a ListImages page deep
    // in it ran its NOT EXISTS as a join filtering 905,050 rows (359 ms; 0.57 ms as one probe per row). The forms
    // below leave the planner no plan whose cost follows the repository's size: each value joins its own key lookup
    // (LATERAL), and OFFSET 0 keeps a subquery as written (PostgreSQL neither pulls up nor turns into a join a
    // subquery with an offset).
    public override string RepositoryRowsIn(string table, string columns, string column, string parameter) =>
        $"SELECT t.* FROM unnest(@{parameter}) AS u(value) CROSS JOIN LATERAL " +
        $"(SELECT {columns} FROM {table} t WHERE t.repository_id = @repository AND t.{column} = u.value OFFSET 0) AS t";

    public override string PerRow => " OFFSET 0";

    public override bool IdsCommitInOrder => false;

    /// <summary>The listener's stamp, bounded in time across nodes (<see cref="PgChangeWatch"/>); null when the read cache is off.</summary>
    public override IChangeWatch? Changes => changes;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await dataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>A connection of the warm few when one is free (<see cref="PgWarmPool"/>), else one of the pool.</summary>
    public override async ValueTask<ConnectionLease> LeaseAsync(CancellationToken cancellationToken) =>
        (warm is null ? null : await warm.TryLeaseAsync(cancellationToken)) ?? new ConnectionLease(await OpenAsync(cancellationToken));

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
}
