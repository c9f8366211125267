using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

public abstract partial class MetadataStoreContract
{
    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.CreateAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.GetAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.ExistsAsync))]
    public async Task Upload_session_round_trips()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var session = new UploadSession("3f1c2a9e-upload", repo.Id, 0, T0, T0.AddHours(24));

        await store.Uploads.CreateAsync(session, Ct);

        Assert.Equal(session, await store.Uploads.GetAsync(session.Id, Ct));
        Assert.True(await store.Uploads.ExistsAsync(session.Id, Ct));
        Assert.Null(await store.Uploads.GetAsync("other", Ct));
        Assert.False(await store.Uploads.ExistsAsync("other", Ct));
    }

    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.AdvanceAsync))]
    public async Task Advance_moves_the_offset_only_from_the_expected_value()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var session = new UploadSession("u1", repo.Id, 0, T0, T0.AddHours(24));
        await store.Uploads.CreateAsync(session, Ct);

        Assert.True(await store.Uploads.AdvanceAsync("u1", 0, 5_000_000_000, null, Ct));
        Assert.False(await store.Uploads.AdvanceAsync("u1", 0, 10, null, Ct));
        Assert.False(await store.Uploads.AdvanceAsync("absent", 0, 10, null, Ct));

        Assert.Equal(session with { Offset = 5_000_000_000 }, await store.Uploads.GetAsync("u1", Ct));
    }

    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.AdvanceAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.GetAsync))]
    public async Task Advance_appends_the_chunk_in_order_and_a_refused_advance_records_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var session = new UploadSession("u1", repo.Id, 0, T0, T0.AddHours(24));
        await store.Uploads.CreateAsync(session, Ct);

        Assert.True(await store.Uploads.AdvanceAsync("u1", 0, 10, "0.aaaa", Ct));
        Assert.False(await store.Uploads.AdvanceAsync("u1", 0, 20, "0.bbbb", Ct));
        Assert.True(await store.Uploads.AdvanceAsync("u1", 10, 10, null, Ct));
        Assert.True(await store.Uploads.AdvanceAsync("u1", 10, 30, "10.cccc", Ct));
        Assert.False(await store.Uploads.AdvanceAsync("absent", 0, 10, "0.dddd", Ct));

        var stored = await store.Uploads.GetAsync("u1", Ct);
        Assert.Equal(session with { Offset = 30, Chunks = ["0.aaaa", "10.cccc"] }, stored);
        Assert.Equal(["0.aaaa", "10.cccc"], stored!.Chunks);
        Assert.Equal([stored], await store.Uploads.ListExpiredAsync(T0.AddHours(24), 10, Ct));
    }

    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.AdvanceAsync))]
    public async Task Concurrent_advances_from_the_same_offset_let_exactly_one_win()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await store.Uploads.CreateAsync(new UploadSession("u1", repo.Id, 0, T0, T0.AddHours(24)), Ct);

        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
            Task.Run(() => store.Uploads.AdvanceAsync("u1", 0, i * 100, $"0.w{i}", Ct), Ct)));

        // The one winner's offset and chunk, never one's offset with another's chunk.
        Assert.Single(results, r => r);
        var winner = Array.IndexOf(results, true) + 1;
        var stored = (await store.Uploads.GetAsync("u1", Ct))!;
        Assert.Equal(winner * 100, stored.Offset);
        Assert.Equal([$"0.w{winner}"], stored.Chunks);
    }

    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.DeleteAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.ExistsAsync))]
    public async Task Delete_removes_the_session()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        await store.Uploads.CreateAsync(new UploadSession("u1", repo.Id, 0, T0, T0.AddHours(24)), Ct);
        await store.Uploads.CreateAsync(new UploadSession("u2", repo.Id, 0, T0, T0.AddHours(24)), Ct);

        Assert.True(await store.Uploads.DeleteAsync("u1", Ct));

        Assert.Null(await store.Uploads.GetAsync("u1", Ct));
        Assert.False(await store.Uploads.ExistsAsync("u1", Ct));
        Assert.True(await store.Uploads.ExistsAsync("u2", Ct));
        Assert.False(await store.Uploads.DeleteAsync("u1", Ct));
    }

    [Fact]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.ListExpiredAsync))]
    [Covers(typeof(IUploadStore), nameof(IUploadStore.CountOpenAsync))]
    public async Task ListExpired_returns_sessions_expired_at_or_before_now_oldest_first()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var late = new UploadSession("late", repo.Id, 0, T0, T0.AddHours(3));
        var early = new UploadSession("early", repo.Id, 7, T0, T0.AddHours(1));
        var exact = new UploadSession("exact", repo.Id, 0, T0, T0.AddHours(4));
        var future = new UploadSession("future", repo.Id, 0, T0, T0.AddHours(4).AddMilliseconds(1));
        foreach (var session in new[] { late, early, exact, future })
        {
            await store.Uploads.CreateAsync(session, Ct);
        }

        Assert.Equal([early, late, exact], await store.Uploads.ListExpiredAsync(T0.AddHours(4), 10, Ct));
        Assert.Equal([early, late], await store.Uploads.ListExpiredAsync(T0.AddHours(4), 2, Ct));
        Assert.Empty(await store.Uploads.ListExpiredAsync(T0, 10, Ct));

        // Open: not yet expired (the gauge of open upload sessions).
        Assert.Equal(4, await store.Uploads.CountOpenAsync(T0, Ct));
        Assert.Equal(1, await store.Uploads.CountOpenAsync(T0.AddHours(4), Ct));
        Assert.True(await store.Uploads.DeleteAsync("future", Ct));
        Assert.Equal(0, await store.Uploads.CountOpenAsync(T0.AddHours(4), Ct));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.TryAcquireAsync))]
    public async Task Lease_is_refused_to_another_owner_until_it_expires()
    {
        await using var store = await CreateStoreAsync();

        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));
        Assert.False(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(4), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("uploads", "node-b", T0.AddMinutes(4), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(5), TimeSpan.FromMinutes(5), Ct));
        Assert.False(await store.Leases.TryAcquireAsync("gc", "node-a", T0.AddMinutes(6), TimeSpan.FromMinutes(5), Ct));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.TryAcquireAsync))]
    public async Task Lease_is_renewed_by_its_owner()
    {
        await using var store = await CreateStoreAsync();
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));

        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0.AddMinutes(4), TimeSpan.FromMinutes(5), Ct));

        Assert.False(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(8), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(9), TimeSpan.FromMinutes(5), Ct));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.RenewAsync))]
    public async Task Renewal_extends_a_held_lease_so_another_owner_waits_for_the_new_expiry()
    {
        await using var store = await CreateStoreAsync();
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));

        Assert.True(await store.Leases.RenewAsync("gc", "node-a", T0.AddMinutes(4), TimeSpan.FromMinutes(5), Ct));

        Assert.False(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(8), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(9), TimeSpan.FromMinutes(5), Ct));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.RenewAsync))]
    public async Task Renewal_fails_once_the_lease_expired_was_taken_or_released_and_never_takes_it_back()
    {
        await using var store = await CreateStoreAsync();
        Assert.False(await store.Leases.RenewAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));
        Assert.False(await store.Leases.RenewAsync("gc", "node-b", T0.AddMinutes(1), TimeSpan.FromMinutes(5), Ct));

        // Expired, even with no other owner yet: the holder cannot know no one ran the job meanwhile.
        Assert.False(await store.Leases.RenewAsync("gc", "node-a", T0.AddMinutes(5), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(6), TimeSpan.FromMinutes(5), Ct));
        Assert.False(await store.Leases.RenewAsync("gc", "node-a", T0.AddMinutes(7), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.RenewAsync("gc", "node-b", T0.AddMinutes(7), TimeSpan.FromMinutes(5), Ct));

        await store.Leases.ReleaseAsync("gc", "node-b", Ct);
        Assert.False(await store.Leases.RenewAsync("gc", "node-b", T0.AddMinutes(8), TimeSpan.FromMinutes(5), Ct));
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0.AddMinutes(8), TimeSpan.FromMinutes(5), Ct));
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.ReleaseAsync))]
    public async Task Release_frees_the_lease_only_for_its_owner()
    {
        await using var store = await CreateStoreAsync();
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-a", T0, TimeSpan.FromMinutes(5), Ct));

        await store.Leases.ReleaseAsync("gc", "node-b", Ct);
        Assert.False(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(1), TimeSpan.FromMinutes(5), Ct));

        await store.Leases.ReleaseAsync("gc", "node-a", Ct);
        Assert.True(await store.Leases.TryAcquireAsync("gc", "node-b", T0.AddMinutes(1), TimeSpan.FromMinutes(5), Ct));
        await store.Leases.ReleaseAsync("never-held", "node-a", Ct);
    }

    [Fact]
    [Covers(typeof(IJobLeaseStore), nameof(IJobLeaseStore.TryAcquireAsync))]
    public async Task Concurrent_lease_attempts_let_exactly_one_owner_win()
    {
        await using var store = await CreateStoreAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => store.Leases.TryAcquireAsync("gc", $"node-{i}", T0, TimeSpan.FromMinutes(5), Ct), Ct)));

        Assert.Single(results, r => r);
    }
}
