using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The replication queue: idempotent arming, claims one owner at a time, attempts that a re-arming outdates.</summary>
public abstract partial class MetadataStoreContract
{
    private static readonly ReplicationDestination West = new("eu-west-1", "123456789012");
    private static readonly ReplicationDestination OtherAccount = new("us-east-1", "210987654321");

    private static ReplicationRequest Replicate(string repository, string seed, ReplicationDestination destination, params string[] tags) =>
        new(Registry, RepositoryName.Parse(repository), BlobDigest(seed), destination, tags);

    private static ReplicationAttempt Done(DateTimeOffset at) => new(ReplicationStatuses.Complete, null, null, at);

    [Fact]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.EnqueueAsync))]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.ListForImageAsync))]
    public async Task Arming_an_image_twice_re_arms_its_one_row_and_keeps_the_tags_still_to_carry()
    {
        await using var store = await CreateStoreAsync();
        var first = await store.Replications.EnqueueAsync(Replicate("team/app", "img", West, "v1"), T0, Ct);
        Assert.Equal((ReplicationStatuses.InProgress, 0, T0, T0), (first.Status, first.Attempts, first.ArmedAt, first.NextAttemptAt));

        var second = await store.Replications.EnqueueAsync(Replicate("team/app", "img", West, "v2"), T0.AddSeconds(5), Ct);
        await store.Replications.EnqueueAsync(Replicate("team/app", "img", OtherAccount), T0, Ct);
        await store.Replications.EnqueueAsync(Replicate("team/other", "img", West), T0, Ct);

        Assert.Equal(first.Id, second.Id);
        Assert.True(second.Version > first.Version);
        Assert.Equal(["v1", "v2"], second.Request.Tags);
        Assert.Equal(T0.AddSeconds(5), second.ArmedAt);
        var rows = await store.Replications.ListForImageAsync(RepoKey("team/app"), BlobDigest("img"), Ct);
        Assert.Equal([("eu-west-1", "123456789012"), ("us-east-1", "210987654321")], rows.Select(r => (r.Request.Destination.Region, r.Request.Destination.RegistryId)));
        Assert.Empty(await store.Replications.ListForImageAsync(RepoKey("team/app"), BlobDigest("other"), Ct));
    }

    [Fact]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.ClaimDueAsync))]
    public async Task Racing_owners_each_claim_a_due_row_once_and_an_expired_claim_is_free_again()
    {
        await using var store = await CreateStoreAsync();
        for (var i = 0; i < 6; i++)
        {
            await store.Replications.EnqueueAsync(Replicate("team/app", $"img{i}", West), T0, Ct);
        }

        await store.Replications.EnqueueAsync(Replicate("team/app", "later", West), T0.AddMinutes(5), Ct);

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => Task.Run(() => store.Replications.ClaimDueAsync($"node{n}", T0, TimeSpan.FromMinutes(1), 10, Ct))));

        var claimed = claims.SelectMany(c => c).Select(r => r.Request.Digest).ToList();
        Assert.Equal(6, claimed.Count);
        Assert.Equal(6, claimed.Distinct().Count());
        Assert.DoesNotContain(BlobDigest("later"), claimed); // not due yet
        Assert.Empty(await store.Replications.ClaimDueAsync("node9", T0.AddSeconds(59), TimeSpan.FromMinutes(1), 10, Ct));
        Assert.Equal(2, (await store.Replications.ClaimDueAsync("node9", T0.AddMinutes(1), TimeSpan.FromMinutes(1), 2, Ct)).Count);
    }

    [Fact]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.RenewClaimsAsync))]
    public async Task A_renewed_claim_stays_its_owners_and_an_expired_one_is_not_taken_back()
    {
        await using var store = await CreateStoreAsync();
        var kept = await store.Replications.EnqueueAsync(Replicate("team/app", "kept", West), T0, Ct);
        var lost = await store.Replications.EnqueueAsync(Replicate("team/app", "lost", West), T0, Ct);
        Assert.Equal(2, (await store.Replications.ClaimDueAsync("node", T0, TimeSpan.FromMinutes(1), 10, Ct)).Count);

        Assert.Equal(1, await store.Replications.RenewClaimsAsync([kept.Id], "node", T0.AddSeconds(30), T0.AddSeconds(90), Ct));
        Assert.Equal(0, await store.Replications.RenewClaimsAsync([kept.Id], "intruder", T0.AddSeconds(30), T0.AddMinutes(10), Ct));

        // Past the first minute only the row whose claim was not renewed is free; its old owner cannot renew it back.
        var taken = Assert.Single(await store.Replications.ClaimDueAsync("other", T0.AddSeconds(61), TimeSpan.FromMinutes(1), 10, Ct));
        Assert.Equal(lost.Id, taken.Id);
        Assert.Equal(0, await store.Replications.RenewClaimsAsync([lost.Id], "node", T0.AddSeconds(62), T0.AddMinutes(3), Ct));
        Assert.True(await store.Replications.RecordAttemptAsync(kept.Id, kept.Version, "node", Done(T0.AddSeconds(80)), T0.AddSeconds(80), Ct));
    }

    [Fact]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.RecordAttemptAsync))]
    [Covers(typeof(IReplicationStore), nameof(IReplicationStore.CountByStatusAsync))]
    public async Task An_attempt_settles_its_row_only_for_its_owner_and_version_and_a_retry_is_due_later()
    {
        await using var store = await CreateStoreAsync();
        var retried = await store.Replications.EnqueueAsync(Replicate("team/app", "retried", West), T0, Ct);
        var rearmed = await store.Replications.EnqueueAsync(Replicate("team/app", "rearmed", West, "v1"), T0, Ct);
        var failed = await store.Replications.EnqueueAsync(Replicate("team/app", "failed", West), T0, Ct);
        Assert.Equal(3, (await store.Replications.ClaimDueAsync("node", T0, TimeSpan.FromMinutes(1), 10, Ct)).Count);

        Assert.False(await store.Replications.RecordAttemptAsync(retried.Id, retried.Version, "intruder", Done(T0), T0, Ct));
        var retry = new ReplicationAttempt(ReplicationStatuses.InProgress, "DESTINATION_UNAVAILABLE", "connection refused", T0.AddSeconds(10));
        Assert.True(await store.Replications.RecordAttemptAsync(retried.Id, retried.Version, "node", retry, T0, Ct));
        Assert.True(await store.Replications.RecordAttemptAsync(failed.Id, failed.Version, "node", new ReplicationAttempt(ReplicationStatuses.Failed, "TAG_IMMUTABLE", "tag v1 is immutable", T0), T0, Ct));

        // Pushed again while its copy ran: the attempt of the old version does not settle the new one, which is due at once.
        await store.Replications.EnqueueAsync(Replicate("team/app", "rearmed", West, "v2"), T0.AddSeconds(1), Ct);
        Assert.False(await store.Replications.RecordAttemptAsync(rearmed.Id, rearmed.Version, "node", Done(T0.AddSeconds(2)), T0.AddSeconds(2), Ct));
        var due = await store.Replications.ClaimDueAsync("node", T0.AddSeconds(2), TimeSpan.FromMinutes(1), 10, Ct);
        var again = Assert.Single(due);
        Assert.Equal((rearmed.Id, ReplicationStatuses.InProgress), (again.Id, again.Status));
        Assert.Equal(["v1", "v2"], again.Request.Tags);
        Assert.True(await store.Replications.RecordAttemptAsync(again.Id, again.Version, "node", Done(T0.AddSeconds(3)), T0.AddSeconds(3), Ct));

        var row = Assert.Single(await store.Replications.ListForImageAsync(RepoKey("team/app"), BlobDigest("retried"), Ct));
        Assert.Equal((ReplicationStatuses.InProgress, "DESTINATION_UNAVAILABLE", "connection refused", 1, T0.AddSeconds(10)), (row.Status, row.FailureCode, row.Reason, row.Attempts, row.NextAttemptAt));
        Assert.Equal(retried.Id, Assert.Single(await store.Replications.ClaimDueAsync("node", T0.AddSeconds(10), TimeSpan.FromMinutes(1), 10, Ct)).Id);
        var counts = await store.Replications.CountByStatusAsync(Ct);
        Assert.Equal((1, 1, 1), (counts[ReplicationStatuses.InProgress], counts[ReplicationStatuses.Complete], counts[ReplicationStatuses.Failed]));
        var settled = Assert.Single(await store.Replications.ListForImageAsync(RepoKey("team/app"), BlobDigest("failed"), Ct));
        Assert.Equal((ReplicationStatuses.Failed, "TAG_IMMUTABLE"), (settled.Status, settled.FailureCode));
    }
}
