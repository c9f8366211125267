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
    [SuppressMessage("Security", "CA2100", Justification = "Callers pass constant SQL; values go in parameters.")]
    public async Task<int[]> ExecuteAsync(Session s, CancellationToken cancellationToken)
    {
        var affected = new int[statements.Count];
        if (statements.Count == 0)
        {
            return affected;
        }

        await using var first = s.Command(statements[0].Sql, statements[0].Parameters);
        if (statements.Count == 1 || first.Connection is not { CanCreateBatch: true } connection)
        {
            affected[0] = await first.ExecuteNonQueryAsync(cancellationToken);
            for (var i = 1; i < statements.Count; i++)
            {
                affected[i] = await s.ExecuteAsync(statements[i].Sql, statements[i].Parameters, cancellationToken);
            }

            return affected;
        }

        await using var batch = connection.CreateBatch();
        batch.Transaction = first.Transaction;
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

        await batch.ExecuteNonQueryAsync(cancellationToken);
        for (var i = 0; i < statements.Count; i++)
        {
            affected[i] = batch.BatchCommands[i].RecordsAffected;
        }

        return affected;
    }
}
