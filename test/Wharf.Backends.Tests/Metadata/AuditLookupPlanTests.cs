using Wharf.Core.Audit;
using Wharf.Metadata.Relational;
using Wharf.Metadata.Sqlite;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Every lookup of the audit trail (LookupEvents' attributes within an account, <c>wharf audit</c> across accounts,
/// a later page) reads one index range in the order pages are returned: never the whole table, never a sort.
/// </summary>
public sealed class AuditLookupPlanTests : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-audit-plan-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(directory, "wharf.db");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<AuditAttribute?, string> Lookups => new()
    {
        { null, "audit_events_account_time" },
        { AuditAttribute.EventId, "sqlite_autoindex_audit_events_1" },
        { AuditAttribute.EventName, "audit_events_event_name" },
        { AuditAttribute.ReadOnly, "audit_events_read_only" },
        { AuditAttribute.Username, "audit_events_username" },
        { AuditAttribute.ResourceType, "audit_events_resource_type" },
        { AuditAttribute.ResourceName, "audit_events_resource_name" },
        { AuditAttribute.EventSource, "audit_events_event_source" },
        { AuditAttribute.AccessKeyId, "audit_events_access_key" },
        { AuditAttribute.PrincipalArn, "audit_events_principal" },
    };

    [Theory]
    [MemberData(nameof(Lookups))]
    public async Task A_lookup_by_one_attribute_within_an_account_reads_one_index_range_in_page_order(AuditAttribute? attribute, string index)
    {
        foreach (var after in new AuditCursor?[] { null, new(DateTimeOffset.UnixEpoch.AddDays(1), "00000000-0000-0000-0000-000000000001") })
        {
            var query = new AuditQuery("123456789012", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(2), attribute is { } a ? [new AuditFilter(a, "true")] : [], 50, after);
            var (sql, parameters) = AuditStore.LookupQuery(query, new SqliteDialect(new SqliteDatabase(DatabasePath)));
            var plan = await SqlitePlans.ExplainAsync(DatabasePath, sql, parameters, Ct);
            Assert.True(plan.Any(line => line.StartsWith("SEARCH audit_events USING ", StringComparison.Ordinal) && line.Contains(index, StringComparison.Ordinal)), string.Join(" / ", plan));
            Assert.DoesNotContain(plan, line => line.StartsWith("SCAN ", StringComparison.Ordinal));
            if (attribute != AuditAttribute.EventId)
            {
                Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task Wharf_audit_across_accounts_reads_the_time_range_in_page_order()
    {
        var (sql, parameters) = AuditStore.LookupQuery(new AuditQuery(null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(2), [], 100), new SqliteDialect(new SqliteDatabase(DatabasePath)));
        var plan = await SqlitePlans.ExplainAsync(DatabasePath, sql, parameters, Ct);
        Assert.Equal(["SEARCH audit_events USING INDEX audit_events_time (event_time>? AND event_time<?)"], plan);
    }

    public async ValueTask InitializeAsync()
    {
        await using var store = new SqliteMetadataStore(DatabasePath);
        await store.MigrateAsync(CancellationToken.None);

        // Enough rows, in two accounts, for the planner's choices to be the ones a real trail gets.
        var events = Enumerable.Range(0, 2000).Select(i => new AuditEvent(
            Guid.NewGuid().ToString(), DateTimeOffset.UnixEpoch.AddMinutes(i), i % 2 == 0 ? "123456789012" : "210987654321", "ecr.amazonaws.com",
            "Op" + (i % 40), i % 3 == 0, "user" + (i % 25), "arn:aws:iam::123456789012:user/user" + (i % 25), "AKIA" + (i % 30), "AWS::ECR::Repository",
            "repo" + (i % 50), null, "{}")).ToList();
        await store.Audit.AppendAsync(events, CancellationToken.None);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
