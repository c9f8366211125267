using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Wharf.Metadata.Relational;

/// <summary>
/// Writes whose parameters are all known before any of them runs, sent together: one round trip where
/// the connection takes an ADO.NET batch (Npgsql: the statements run in order inside the caller's
/// transaction, and the first that fails fails the batch, which the transaction then rolls back), one
/// statement after another where it does not (SQLite, in-process: a round trip costs nothing there).
/// </summary>
internal sealed class StatementBatch
{
    private readonly List<(string Sql, IEnumerable<(string Name, object? Value)> Parameters)> statements = [];

    public int Count => statements.Count;

    /// <summary>Adds a statement; its index is where <see cref="ExecuteAsync"/> reports the rows it changed.</summary>
    public int Add(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        statements.Add((sql, parameters));
        return statements.Count - 1;
    }

    /// <summary>Runs the statements in order; the rows each changed, by index.</summary>
    public Task<int[]> ExecuteAsync(Session s, CancellationToken cancellationToken) => RunAsync(s, commit: false, cancellationToken);

    /// <summary>
    /// As <see cref="ExecuteAsync"/>, as the last work of a write transaction: where the statements go as one batch,
    /// the transaction's <c>COMMIT</c> goes at its end (one round trip fewer; the batch answers once the commit is
    /// durable, as a separate <c>COMMIT</c> would) and <see cref="Database"/> does not commit again. A failed statement
    /// skips the rest of the batch, the <c>COMMIT</c> with it, and the transaction rolls back. Nothing may be written
    /// after it, nor anything decided that should roll the transaction back.
    /// </summary>
    public Task<int[]> ExecuteAndCommitAsync(Session s, CancellationToken cancellationToken) => RunAsync(s, commit: true, cancellationToken);

    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    private async Task<int[]> RunAsync(Session s, bool commit, CancellationToken cancellationToken)
    {
        var affected = new int[statements.Count];
        if (statements.Count == 0 && !commit)
        {
            return affected;
        }

        var connection = s.Connection;
        commit &= s.Transaction is not null;
        if (!connection.CanCreateBatch || (statements.Count == 1 && !commit))
        {
            for (var i = 0; i < statements.Count; i++)
            {
                affected[i] = await s.ExecuteAsync(statements[i].Sql, statements[i].Parameters, cancellationToken);
            }

            return affected;
        }

        await using var batch = connection.CreateBatch();
        batch.Transaction = s.Transaction;
        foreach (var (sql, parameters) in statements)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }

            batch.BatchCommands.Add(command);
        }

        if (commit)
        {
            var end = batch.CreateBatchCommand();
            end.CommandText = "COMMIT";
            batch.BatchCommands.Add(end);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        s.Committed |= commit;
        for (var i = 0; i < statements.Count; i++)
        {
            affected[i] = batch.BatchCommands[i].RecordsAffected;
        }

        return affected;
    }
}
