using System.Data.Common;

namespace Wharf.Metadata.Relational;

/// <summary>
/// What really differs between the engines, and nothing else: shared SQL is written once with
/// <c>@name</c> parameters (both engines bind them), <c>CAST(@p AS TEXT)</c> where a parameter may be
/// null, and these fragments where the engines part ways.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>
    /// Appended to a <c>SELECT</c> that must hold its rows until the write transaction ends. Empty
    /// where a write transaction already excludes every other writer (SQLite's <c>BEGIN IMMEDIATE</c>).
    /// </summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// A condition that <paramref name="column"/> is one of the values bound to <paramref name="parameter"/>
    /// by <see cref="ListValue"/>.
    /// </summary>
    public abstract string InList(string column, string parameter);

    /// <summary>The parameter value <see cref="InList"/> reads: a text array, or a JSON array of strings.</summary>
    public abstract object ListValue(IEnumerable<string> values);

    /// <summary>A <c>SELECT</c> of the values bound to <paramref name="parameter"/> by <see cref="ListValue"/>, one row each, in a column <c>value</c>.</summary>
    public abstract string ListRows(string parameter);

    /// <summary>
    /// A <c>SELECT</c> of <paramref name="columns"/> from the rows of <paramref name="table"/> (alias <c>t</c>) in the
    /// repository bound to <c>@repository</c> whose <paramref name="column"/> is one of the distinct values bound to
    /// <paramref name="parameter"/> by <see cref="ListValue"/>: one lookup of the key (repository_id, column) per value,
    /// so that its cost is the list's, whatever the repository's size. By default a list condition (SQLite searches the
    /// key once per value); PostgreSQL's form is in its dialect.
    /// </summary>
    public virtual string RepositoryRowsIn(string table, string columns, string column, string parameter) =>
        $"SELECT {columns} FROM {table} t WHERE t.repository_id = @repository AND {InList("t." + column, parameter)}";

    /// <summary>
    /// Ends a correlated subquery (an <c>EXISTS</c> probe by key) that the engine must run as written, once per outer
    /// row, rather than fold into a join that may read the repository's every row. Empty where probes already run per
    /// row (SQLite); PostgreSQL's form is in its dialect.
    /// </summary>
    public virtual string PerRow => string.Empty;

    /// <summary>
    /// True when rows become visible in the order of the ids they took: one writer at a time commits
    /// (SQLite). False when a write may take an id, and a later write take the next id and commit
    /// first (PostgreSQL's sequences): a reader then sees a gap that a commit may still fill, which
    /// <see cref="EventLog"/> waits for.
    /// </summary>
    public abstract bool IdsCommitInOrder { get; }

    /// <summary>
    /// <c>INDEXED BY <paramref name="index"/></c> where the engine takes the hint (SQLite, whose planner without
    /// statistics may prefer a shorter index that also orders the rows), else nothing (PostgreSQL plans by its statistics).
    /// </summary>
    public virtual string IndexedBy(string index) => string.Empty;

    /// <summary>The name a parameter written <c>@<paramref name="name"/></c> in the SQL is bound by (by default the bare name, which both drivers accept).</summary>
    public virtual string ParameterName(string name) => name;

    /// <summary>
    /// The engine's cheap reading of whether anything committed since an earlier reading, which <see cref="ReadCache"/>
    /// keys its entries by: exact on SQLite (the WAL-index header), bounded in time on PostgreSQL (a LISTEN on the
    /// triggers' notifications, with heartbeats: PgChangeWatch); null where there is none, which leaves the cache off.
    /// </summary>
    public virtual IChangeWatch? Changes => null;

    /// <summary>Opens a pooled connection with the engine's per-connection settings.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A connection for one store call (<see cref="Database"/>): by default one from <see cref="OpenAsync"/>, its commands made for each statement.</summary>
    public virtual async ValueTask<ConnectionLease> LeaseAsync(CancellationToken cancellationToken) => new(await OpenAsync(cancellationToken));

    /// <summary>Begins a write transaction the way the engine's stores rely on (see each dialect).</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);
}
