using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.GarbageCollection;

public sealed class GarbageCollectorTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    [Fact]
    public async Task Deletes_only_unreferenced_blobs_untouched_for_the_grace_window()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
        var kept = ServiceStack.Random(1000);
        await stack.PushImageAsync("team/app", "v1", config, kept);
        var orphan = await stack.UploadAsync("team/app", ServiceStack.Random(2000));

        stack.Time.Advance(Grace - TimeSpan.FromMinutes(1));
        var early = await stack.Collector.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, early.BlobsDeleted);
        Assert.NotNull(await stack.Blobs.StatAsync(orphan, CancellationToken.None));

        stack.Time.Advance(TimeSpan.FromMinutes(2));
        var report = await stack.Collector.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, report.BlobsDeleted);
        Assert.Equal(2000, report.BytesFreed);
        Assert.Null(await stack.Blobs.StatAsync(orphan, CancellationToken.None));
        Assert.Null(await stack.Store.Blobs.GetBlobAsync(orphan, CancellationToken.None));
        Assert.NotNull(await stack.Blobs.StatAsync(Digest.Sha256Of(kept), CancellationToken.None));
        Assert.NotNull(await stack.Blobs.StatAsync(Digest.Sha256Of(config), CancellationToken.None));
    }

    [Fact]
    public async Task Deleting_an_image_makes_its_blobs_collectable_after_the_grace_window()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
        var layer = ServiceStack.Random(1500);
        var manifest = await stack.PushImageAsync("team/app", "v1", config, layer);
        await stack.Manifests.DeleteAsync(ServiceStack.Caller, ServiceStack.Repo("team/app"), Reference.Of(Digest.Sha256Of(manifest)), CancellationToken.None);

        stack.Time.Advance(Grace + TimeSpan.FromSeconds(1));
        var report = await stack.Collector.RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, report.BlobsDeleted);
        Assert.Null(await stack.Blobs.StatAsync(Digest.Sha256Of(layer), CancellationToken.None));
    }

    [Fact]
    public async Task Finishes_blobs_a_crashed_run_left_claimed()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var digest = await stack.UploadAsync("team/app", ServiceStack.Random(100));
        stack.Time.Advance(Grace * 2);
        Assert.Single(await stack.Store.Blobs.ClaimGarbageAsync(stack.Time.GetUtcNow() - Grace, 10, CancellationToken.None));

        var report = await stack.Collector.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, report.BlobsDeleted);
        Assert.Empty(await stack.Store.Blobs.ListClaimedAsync(10, CancellationToken.None));
        Assert.Null(await stack.Blobs.StatAsync(digest, CancellationToken.None));
    }

    [Fact]
    public async Task Orphaned_staging_goes_on_the_second_run_and_staging_with_a_session_stays()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var live = await stack.Uploads.StartAsync(ServiceStack.Caller, ServiceStack.Repo("team/app"), CancellationToken.None);
        await stack.Blobs.CreateUploadAsync("orphan", CancellationToken.None);

        Assert.Equal(0, (await stack.Collector.RunOnceAsync(CancellationToken.None)).StagingAreasRemoved);
        Assert.Equal(1, (await stack.Collector.RunOnceAsync(CancellationToken.None)).StagingAreasRemoved);

        var staged = new List<string>();
        await foreach (var id in stack.Blobs.ListUploadsAsync(CancellationToken.None))
        {
            staged.Add(id);
        }

        Assert.Equal([live.Id], staged);
    }

    [Fact]
    public async Task Janitor_removes_expired_sessions_and_their_staged_bytes()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var repo = ServiceStack.Repo("team/app");
        var old = await stack.Uploads.StartAsync(ServiceStack.Caller, repo, CancellationToken.None);
        using (var chunk = new MemoryStream(ServiceStack.Random(4096)))
        {
            await stack.Uploads.AppendAsync(ServiceStack.Caller, repo, old.Id, chunk, null, null, null, CancellationToken.None);
        }

        stack.Time.Advance(TimeSpan.FromHours(23));
        var fresh = await stack.Uploads.StartAsync(ServiceStack.Caller, repo, CancellationToken.None);
        stack.Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await stack.Janitor.RunOnceAsync(CancellationToken.None));
        Assert.Null(await stack.Store.Uploads.GetAsync(old.Id, CancellationToken.None));
        Assert.False(await stack.Blobs.UploadExistsAsync(old.Id, CancellationToken.None));
        Assert.NotNull(await stack.Store.Uploads.GetAsync(fresh.Id, CancellationToken.None));
        var gone = await Assert.ThrowsAsync<WharfException>(() => stack.Uploads.GetStatusAsync(ServiceStack.Caller, repo, old.Id, CancellationToken.None));
        Assert.Equal(WharfErrorCode.BlobUploadUnknown, gone.Code);
    }

    [Fact]
    public async Task Running_hashes_of_abandoned_uploads_are_dropped_after_the_upload_expiry()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var repo = ServiceStack.Repo("team/app");
        var abandoned = await stack.Uploads.StartAsync(ServiceStack.Caller, repo, CancellationToken.None);
        using (var chunk = new MemoryStream(ServiceStack.Random(1024)))
        {
            await stack.Uploads.AppendAsync(ServiceStack.Caller, repo, abandoned.Id, chunk, null, null, null, CancellationToken.None);
        }

        Assert.Equal(1, stack.Uploads.CachedHashCount);
        stack.Time.Advance(TimeSpan.FromHours(23));
        await stack.Uploads.StartAsync(ServiceStack.Caller, repo, CancellationToken.None);
        Assert.Equal(1, stack.Uploads.CachedHashCount);

        stack.Time.Advance(TimeSpan.FromHours(2));
        await stack.Uploads.StartAsync(ServiceStack.Caller, repo, CancellationToken.None);
        Assert.Equal(0, stack.Uploads.CachedHashCount);
    }
}
