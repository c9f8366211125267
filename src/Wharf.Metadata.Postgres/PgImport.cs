using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// Fills an empty, migrated PostgreSQL metadata database with another engine's rows, for
/// <c>wharf migrate</c>: every table in one transaction (a failed run leaves the database as it was,
/// so the run can simply be repeated), parents before children so each foreign key holds as rows
/// arrive, each table by binary <c>COPY</c>, then each identity column's sequence moved past the
/// copied ids so the next insert does not collide with them.
/// </summary>
public sealed class PgImport : IAsyncDisposable
{
    // Not the migrator's key: two migrate runs must exclude each other, not a starting node.
    private const long LockKey = 0x5748_4152_4600_0002;

    private readonly NpgsqlDataSource dataSource;

    public PgImport(string connectionString)
    {
        dataSource = NpgsqlDataSource.Create(connectionString);
    }

    /// <summary>The highest schema version applied (0 when none).</summary>
    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(max(version), 0) FROM schema_migrations");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Every metadata table but the migration ledger and the authorization generation (each engine keeps its own, bumped by the copy), each after the tables its foreign keys name.</summary>
    public async Task<IReadOnlyList<MetadataTable>> TablesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await ShapesAsync(connection, null, cancellationToken)).Select(t => t.Table).ToList();
    }

    /// <summary>Rows per table (all of them when the database is empty).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await CountAsync(connection, null, await ShapesAsync(connection, null, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Copies every table's rows from <paramref name="source"/> in one transaction. Refuses (returns
    /// the tables that hold rows, copying nothing) unless the tables are empty or
    /// <paramref name="replace"/> is set, which empties them first in the same transaction.
    /// Returns an empty list when the copy committed.
    /// </summary>
    public async Task<IReadOnlyList<string>> ImportAsync(Func<MetadataTable, IAsyncEnumerable<object?[]>> source, bool replace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        var shapes = await ShapesAsync(connection, transaction, cancellationToken);
        if (replace)
        {
            await ExecuteAsync(connection, transaction, $"TRUNCATE {string.Join(", ", shapes.Select(s => Quote(s.Table.Name)))} RESTART IDENTITY", cancellationToken);
        }
        else
        {
            var occupied = (await CountAsync(connection, transaction, shapes, cancellationToken)).Where(c => c.Value > 0).Select(c => c.Key).ToList();
            if (occupied.Count > 0)
            {
                return occupied;
            }
        }

        foreach (var shape in shapes)
        {
            await CopyAsync(connection, shape, source(shape.Table), cancellationToken);
        }

        foreach (var shape in shapes)
        {
            foreach (var identity in shape.Identities)
            {
                // is_called = false when the table is empty: the next id is then 1, as on a fresh database.
                await ExecuteAsync(
                    connection,
                    transaction,
                    $"SELECT setval(pg_get_serial_sequence('{shape.Table.Name}', '{identity}'), coalesce(max({Quote(identity)}), 0) + 1, false) FROM {Quote(shape.Table.Name)}",
                    cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return [];
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private static async Task CopyAsync(NpgsqlConnection connection, TableShape shape, IAsyncEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        var table = shape.Table;

        // COPY writes identity columns as given, GENERATED ALWAYS or not (like OVERRIDING SYSTEM VALUE).
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY {Quote(table.Name)} ({string.Join(", ", table.Columns.Select(Quote))}) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            await writer.StartRowAsync(cancellationToken);
            for (var i = 0; i < row.Length; i++)
            {
                var type = shape.Types[i];
                if (row[i] is not { } value)
                {
                    await writer.WriteNullAsync(cancellationToken);
                    continue;
                }

                await writer.WriteAsync(ToColumnValue(value, type, table.Name, table.Columns[i]), type, cancellationToken);
            }
        }

        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// SQLite keeps integers (booleans too) as 64-bit integers, text as text and bytes as blobs; each
    /// becomes the PostgreSQL column's type, and anything else is a clear error rather than a guess.
    /// </summary>
    private static object ToColumnValue(object value, NpgsqlDbType type, string table, string column) => (type, value) switch
    {
        (NpgsqlDbType.Bigint, long l) => l,
        (NpgsqlDbType.Integer, long l) when l is >= int.MinValue and <= int.MaxValue => (int)l,
        (NpgsqlDbType.Boolean, long l) => l != 0,
        (NpgsqlDbType.Boolean, bool b) => b,
        (NpgsqlDbType.Text, string s) => s,
        (NpgsqlDbType.Text, long l) => l.ToString(CultureInfo.InvariantCulture),
        (NpgsqlDbType.Bytea, byte[] b) => b,
        (NpgsqlDbType.Bytea, string s) => System.Text.Encoding.UTF8.GetBytes(s),
        _ => throw new InvalidDataException($"{table}.{column}: cannot store the {value.GetType().Name} value '{value}' in a PostgreSQL {type.ToString().ToLowerInvariant()} column"),
    };

    private static async Task<List<TableShape>> ShapesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, List<(string Name, string Type, bool Identity)>>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.table_name, c.column_name, c.data_type, c.is_identity = 'YES'
            FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name NOT IN ('schema_migrations', 'auth_generation')
            ORDER BY c.table_name, c.ordinal_position
            """,
            connection,
            transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var table = reader.GetString(0);
                if (!columns.TryGetValue(table, out var list))
                {
                    columns[table] = list = [];
                }

                list.Add((reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
            }
        }

        var parents = columns.Keys.ToDictionary(t => t, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT child.relname, parent.relname
            FROM pg_constraint k
            JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
            WHERE k.contype = 'f' AND child.relnamespace = current_schema()::regnamespace AND NOT k.condeferred
            """,
            connection,
            transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (child, parent) = (reader.GetString(0), reader.GetString(1));
                if (child != parent && parents.TryGetValue(child, out var set))
                {
                    set.Add(parent);
                }
            }
        }

        // Parents first; a cycle of immediate foreign keys would be a schema bug, and is reported as one.
        var ordered = new List<TableShape>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (placed.Count < columns.Count)
        {
            var ready = columns.Keys.Where(t => !placed.Contains(t) && parents[t].All(placed.Contains)).Order(StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
            {
                throw new InvalidOperationException("The metadata tables' foreign keys form a cycle: " + string.Join(", ", columns.Keys.Where(t => !placed.Contains(t))));
            }

            foreach (var table in ready)
            {
                placed.Add(table);
                var list = columns[table];
                ordered.Add(new TableShape(
                    new MetadataTable(table, list.Select(c => c.Name).ToList()),
                    list.Select(c => TypeOf(table, c.Name, c.Type)).ToList(),
                    list.Where(c => c.Identity).Select(c => c.Name).ToList()));
            }
        }

        return ordered;
    }

    private static NpgsqlDbType TypeOf(string table, string column, string type) => type switch
    {
        "bigint" => NpgsqlDbType.Bigint,
        "integer" => NpgsqlDbType.Integer,
        "boolean" => NpgsqlDbType.Boolean,
        "text" => NpgsqlDbType.Text,
        "bytea" => NpgsqlDbType.Bytea,
        _ => throw new InvalidOperationException($"{table}.{column} has type {type}, which wharf migrate does not know how to fill"),
    };

    private static async Task<Dictionary<string, long>> CountAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<TableShape> shapes, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var shape in shapes)
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {Quote(shape.Table.Name)}", connection, transaction);
            counts[shape.Table.Name] = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return counts;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed record TableShape(MetadataTable Table, IReadOnlyList<NpgsqlDbType> Types, IReadOnlyList<string> Identities);
}
