using Wharf.Core.Audit;
using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The audit trail: batches appended once, lookups by one attribute within an account newest first in keyset pages, pruning by age.</summary>
public abstract partial class MetadataStoreContract
{
    private const string AuditAccount = "123456789012";
    private const string OtherAuditAccount = "210987654321";

    private static AuditEvent AuditRecord(int n, string account = AuditAccount, string name = "CreateRepository", string? user = "alice", bool readOnly = false, DateTimeOffset? at = null) =>
        new(
            $"00000000-0000-0000-0000-{n:D12}",
            at ?? T0.AddSeconds(n),
            account,
            "ecr.amazonaws.com",
            name,
            readOnly,
            user,
            user is null ? null : $"arn:aws:iam::{account}:user/{user}",
            user is null ? null : "AKIAEXAMPLE" + user.ToUpperInvariant(),
            "AWS::ECR::Repository",
            "team/app" + (n % 2),
            n % 3 == 0 ? "AccessDeniedException" : null,
            $$"""{"eventID":"{{n}}"}""");

    private static AuditQuery AllOf(string? account, int limit = 100, params AuditFilter[] filters) =>
        new(account, T0.AddDays(-1), T0.AddDays(1), filters, limit);

    [Fact]
    [Covers(typeof(IAuditStore), nameof(IAuditStore.AppendAsync))]
    [Covers(typeof(IAuditStore), nameof(IAuditStore.LookupAsync))]
    public async Task Audit_events_are_appended_once_and_read_back_newest_first_within_their_account()
    {
        await using var store = await CreateStoreAsync();
        var events = Enumerable.Range(1, 6).Select(n => AuditRecord(n)).Append(AuditRecord(7, OtherAuditAccount)).ToList();
        Assert.Equal(7, await store.Audit.AppendAsync(events, Ct));
        Assert.Equal(0, await store.Audit.AppendAsync(events.Take(2).ToList(), Ct)); // a retried batch adds nothing
        Assert.Equal(0, await store.Audit.AppendAsync([], Ct));

        var page = await store.Audit.LookupAsync(AllOf(AuditAccount), Ct);
        Assert.Equal([6, 5, 4, 3, 2, 1], page.Events.Select(e => int.Parse(e.EventId[^12..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Null(page.Next);
        Assert.Equal(AuditRecord(6), page.Events[0]);
        Assert.Equal(AuditRecord(3), page.Events[3]);
        Assert.Equal(7, (await store.Audit.LookupAsync(AllOf(null), Ct)).Events.Count);
        Assert.Equal([AuditRecord(7, OtherAuditAccount)], (await store.Audit.LookupAsync(AllOf(OtherAuditAccount), Ct)).Events);

        // Time bounds are inclusive.
        var range = await store.Audit.LookupAsync(new AuditQuery(AuditAccount, T0.AddSeconds(2), T0.AddSeconds(4), [], 100), Ct);
        Assert.Equal([AuditRecord(4), AuditRecord(3), AuditRecord(2)], range.Events);
    }

    [Fact]
    public async Task Audit_lookups_filter_on_each_attribute()
    {
        await using var store = await CreateStoreAsync();
        await store.Audit.AppendAsync(
            [
                AuditRecord(1), AuditRecord(2, name: "DescribeRepositories", readOnly: true), AuditRecord(3, user: "bob"), AuditRecord(4, user: null, name: "PutImage"),
                AuditRecord(5, OtherAuditAccount),
            ],
            Ct);
        async Task<int[]> IdsAsync(AuditAttribute attribute, string value) =>
            [.. (await store.Audit.LookupAsync(AllOf(AuditAccount, 100, new AuditFilter(attribute, value)), Ct)).Events.Select(e => int.Parse(e.EventId[^12..], System.Globalization.CultureInfo.InvariantCulture))];

        Assert.Equal(new[] { 2 }, await IdsAsync(AuditAttribute.EventId, AuditRecord(2).EventId));
        Assert.Equal(new[] { 3, 1 }, await IdsAsync(AuditAttribute.EventName, "CreateRepository"));
        Assert.Equal(new[] { 2 }, await IdsAsync(AuditAttribute.ReadOnly, "true"));
        Assert.Equal(new[] { 4, 3, 1 }, await IdsAsync(AuditAttribute.ReadOnly, "false"));
        Assert.Equal(new[] { 3 }, await IdsAsync(AuditAttribute.Username, "bob"));
        Assert.Equal(new[] { 4, 3, 2, 1 }, await IdsAsync(AuditAttribute.ResourceType, "AWS::ECR::Repository"));
        Assert.Equal(new[] { 3, 1 }, await IdsAsync(AuditAttribute.ResourceName, "team/app1"));
        Assert.Equal(new[] { 4, 3, 2, 1 }, await IdsAsync(AuditAttribute.EventSource, "ecr.amazonaws.com"));
        Assert.Equal(new[] { 2, 1 }, await IdsAsync(AuditAttribute.AccessKeyId, "AKIAEXAMPLEALICE"));
        Assert.Equal(new[] { 3 }, await IdsAsync(AuditAttribute.PrincipalArn, $"arn:aws:iam::{AuditAccount}:user/bob"));
        Assert.Empty(await IdsAsync(AuditAttribute.Username, "nobody"));

        // Several filters combine (wharf audit), across every account when none is named.
        var both = await store.Audit.LookupAsync(AllOf(null, 100, new AuditFilter(AuditAttribute.EventName, "CreateRepository"), new AuditFilter(AuditAttribute.Username, "alice")), Ct);
        Assert.Equal([AuditRecord(5, OtherAuditAccount), AuditRecord(1)], both.Events);
    }

    [Fact]
    public async Task Audit_pages_follow_one_another_without_gaps_or_repeats_even_with_equal_times()
    {
        await using var store = await CreateStoreAsync();

        // Ten events in one millisecond: the id breaks the tie.
        var events = Enumerable.Range(1, 23).Select(n => AuditRecord(n, at: n <= 10 ? T0 : T0.AddSeconds(n))).ToList();
        await store.Audit.AppendAsync(events, Ct);
        var seen = new List<string>();
        AuditCursor? after = null;
        var pages = 0;
        do
        {
            var page = await store.Audit.LookupAsync(AllOf(AuditAccount, 4) with { After = after }, Ct);
            Assert.InRange(page.Events.Count, 1, 4);
            seen.AddRange(page.Events.Select(e => e.EventId));
            after = page.Next;
            pages++;
        }
        while (after is not null);

        Assert.Equal(6, pages);
        Assert.Equal(events.OrderByDescending(e => e.Time).ThenByDescending(e => e.EventId, StringComparer.Ordinal).Select(e => e.EventId), seen);
    }

    [Fact]
    [Covers(typeof(IAuditStore), nameof(IAuditStore.PruneAsync))]
    public async Task Audit_pruning_deletes_only_what_is_older_than_the_cutoff()
    {
        await using var store = await CreateStoreAsync();
        await store.Audit.AppendAsync([AuditRecord(1), AuditRecord(2), AuditRecord(3, OtherAuditAccount), AuditRecord(4)], Ct);
        Assert.Equal(2, await store.Audit.PruneAsync(T0.AddSeconds(3), Ct)); // 1 and 2; 3 is not older than the cutoff
        Assert.Equal([AuditRecord(4)], (await store.Audit.LookupAsync(AllOf(AuditAccount), Ct)).Events);
        Assert.Equal([AuditRecord(3, OtherAuditAccount)], (await store.Audit.LookupAsync(AllOf(OtherAuditAccount), Ct)).Events);
        Assert.Equal(0, await store.Audit.PruneAsync(T0, Ct));
    }
}
