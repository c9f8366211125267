using System.Data.Common;
using System.Text;
using Wharf.Core.Audit;

namespace Wharf.Metadata.Relational;

/// <summary>
/// The audit trail's table (migration 0019). Every lookup is one range scan: an index leads with the account
/// and the attribute filtered on, then the time and id the pages are ordered by (newest first), so a page
/// reads its rows and no more, whatever the trail's size.
/// </summary>
internal sealed class AuditStore(Database database) : IAuditStore
{
    private const string Columns =
        "event_id, event_time, account, event_source, event_name, read_only, username, principal_arn, access_key_id, resource_type, resource_name, error_code, document";

    /// <summary>How many rows one pruning statement deletes, so that a large backlog never holds the write lock long.</summary>
    private const int PruneChunk = 5_000;

    public Task<int> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
        events.Count == 0
            ? Task.FromResult(0)
            : database.WriteAsync(
                async s =>
                {
                    // The writer's batch of events in one round trip where the engine batches.
                    var batch = new StatementBatch();
                    foreach (var e in events)
                    {
                        batch.Add(
                            $"""
                            INSERT INTO audit_events ({Columns})
                            VALUES (@id, @time, @account, @source, @name, @readOnly, CAST(@username AS TEXT), CAST(@principal AS TEXT), CAST(@key AS TEXT),
                                    CAST(@resourceType AS TEXT), CAST(@resourceName AS TEXT), CAST(@error AS TEXT), @document)
                            ON CONFLICT (event_id) DO NOTHING
                            """,
                            [
                                ("id", e.EventId), ("time", Relational.Columns.Ms(e.Time)), ("account", e.Account), ("source", e.EventSource), ("name", e.EventName),
                                ("readOnly", e.ReadOnly), ("username", e.Username), ("principal", e.PrincipalArn), ("key", e.AccessKeyId),
                                ("resourceType", e.ResourceType), ("resourceName", e.ResourceName), ("error", e.ErrorCode), ("document", e.Document),
                            ]);
                    }

                    return (await batch.ExecuteAsync(s, cancellationToken)).Sum();
                },
                cancellationToken);

    public Task<AuditPage> LookupAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var (sql, parameters) = LookupQuery(query, database.Dialect);
        return database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(sql, Map, parameters, cancellationToken);
                if (rows.Count <= query.Limit)
                {
                    return new AuditPage(rows, null);
                }

                rows.RemoveAt(rows.Count - 1);
                return new AuditPage(rows, new AuditCursor(rows[^1].Time, rows[^1].EventId));
            },
            cancellationToken);
    }

    /// <summary>The SQL of a lookup (one more row than the page, to tell whether another follows); the plan tests read it.</summary>
    internal static (string Sql, List<(string Name, object? Value)> Parameters) LookupQuery(AuditQuery query, SqlDialect dialect)
    {
        // The index whose range is the answer: the account's, narrowed by the first filter's attribute when there is one.
        var index = query.Account is null ? "audit_events_time"
            : query.Filters.Count == 0 ? "audit_events_account_time"
            : query.Filters[0].Attribute == AuditAttribute.EventId ? null
            : Index(query.Filters[0].Attribute);
        var sql = new StringBuilder($"SELECT {Columns} FROM audit_events{(index is null ? string.Empty : dialect.IndexedBy(index))} WHERE event_time >= @start AND event_time <= @end");
        var parameters = new List<(string Name, object? Value)> { ("start", Relational.Columns.Ms(query.Start)), ("end", Relational.Columns.Ms(query.End)), ("limit", query.Limit + 1) };
        if (query.Account is { } account)
        {
            sql.Append(" AND account = @account");
            parameters.Add(("account", account));
        }

        for (var i = 0; i < query.Filters.Count; i++)
        {
            var filter = query.Filters[i];
            var name = "f" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            sql.Append(" AND ").Append(Column(filter.Attribute)).Append(" = @").Append(name);
            parameters.Add((name, filter.Attribute == AuditAttribute.ReadOnly ? string.Equals(filter.Value, "true", StringComparison.OrdinalIgnoreCase) : filter.Value));
        }

        if (query.After is { } after)
        {
            // A row value: one index range in both engines (PostgreSQL's generic plan made the equivalent OR a bitmap).
            sql.Append(" AND (event_time, event_id) < (@at, @after)");
            parameters.Add(("at", Relational.Columns.Ms(after.Time)));
            parameters.Add(("after", after.EventId));
        }

        sql.Append(" ORDER BY event_time DESC, event_id DESC LIMIT @limit");
        return (sql.ToString(), parameters);
    }

    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var deleted = await database.WriteAsync(
                s => s.ExecuteAsync(
                    "DELETE FROM audit_events WHERE event_id IN (SELECT event_id FROM audit_events WHERE event_time < @before LIMIT @chunk)",
                    [("before", Relational.Columns.Ms(before)), ("chunk", PruneChunk)],
                    cancellationToken),
                cancellationToken);
            total += deleted;
            if (deleted < PruneChunk)
            {
                return total;
            }
        }
    }

    private static string Index(AuditAttribute attribute) => attribute switch
    {
        AuditAttribute.EventName => "audit_events_event_name",
        AuditAttribute.ReadOnly => "audit_events_read_only",
        AuditAttribute.Username => "audit_events_username",
        AuditAttribute.ResourceType => "audit_events_resource_type",
        AuditAttribute.ResourceName => "audit_events_resource_name",
        AuditAttribute.EventSource => "audit_events_event_source",
        AuditAttribute.AccessKeyId => "audit_events_access_key",
        AuditAttribute.PrincipalArn => "audit_events_principal",
        _ => "audit_events_account_time",
    };

    // Constants only: the filter's column never comes from the caller's text.
    private static string Column(AuditAttribute attribute) => attribute switch
    {
        AuditAttribute.EventId => "event_id",
        AuditAttribute.EventName => "event_name",
        AuditAttribute.ReadOnly => "read_only",
        AuditAttribute.Username => "username",
        AuditAttribute.ResourceType => "resource_type",
        AuditAttribute.ResourceName => "resource_name",
        AuditAttribute.EventSource => "event_source",
        AuditAttribute.AccessKeyId => "access_key_id",
        AuditAttribute.PrincipalArn => "principal_arn",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "not an audit attribute"),
    };

    private static AuditEvent Map(DbDataReader r) => new(
        r.GetString(0),
        r.Time(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetBoolean(5),
        r.NullableString(6),
        r.NullableString(7),
        r.NullableString(8),
        r.NullableString(9),
        r.NullableString(10),
        r.NullableString(11),
        r.GetString(12));
}
