using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Encryption;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.GarbageCollection;

/// <summary>Garbage collection of sealed blobs (issue 21): a sealed copy goes with its record and its bytes; a referenced one stays.</summary>
public sealed class SealedGcTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Gc_removes_an_unreferenced_sealed_copy_with_its_record_and_keeps_a_referenced_one()
    {
        var clock = new ShiftedClock();
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Gc:Enabled"] = "false" }, services: s => s.AddSingleton<TimeProvider>(clock));
        using var client = server.CreateClient();
        var pusher = new OciPusher(client);
        var config = """{"architecture":"amd64","os":"linux"}"""u8.ToArray();
        var kept = ServiceStack.Random(150_000);
        var orphan = ServiceStack.Random(150_000);
        foreach (var blob in new[] { config, kept, orphan })
        {
            await pusher.PushBlobMonolithicAsync("team/app", blob, Ct);
        }

        await pusher.PushManifestAsync("team/app", "v1", config, [kept], Ct);
        var vault = server.GetService<IBlobVault>();
        var blobs = server.GetService<IBlobStore>();
        var orphanCopy = await vault.FindSealedAsync(BlobScope.Master, Digest.Sha256Of(orphan), Ct);
        var keptCopy = await vault.FindSealedAsync(BlobScope.Master, Digest.Sha256Of(kept), Ct);
        Assert.NotNull(orphanCopy);
        Assert.NotNull(keptCopy);
        Assert.NotNull(await blobs.StatAsync(orphanCopy.Address, Ct));
        Assert.Null(await blobs.StatAsync(Digest.Sha256Of(orphan), Ct)); // sealed: nothing at the plaintext's name

        clock.Advance(TimeSpan.FromHours(2));
        var report = await server.GetService<GarbageCollector>().RunOnceAsync(Ct);

        Assert.Equal(1, report.BlobsDeleted);
        Assert.Equal(orphan.Length, report.BytesFreed);
        Assert.Null(await server.GetService<IMetadataStore>().SealedCopies.GetAsync(Digest.Sha256Of(orphan), BlobScope.Master.Id, Ct));
        Assert.Null(await blobs.StatAsync(orphanCopy.Address, Ct));
        Assert.NotNull(await blobs.StatAsync(keptCopy.Address, Ct));
        Assert.Equal(kept, await pusher.GetAsync($"/v2/team/app/blobs/{Digest.Sha256Of(kept)}", Ct));
    }
}
