using System.Text;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.Tests.Jobs;
using Wharf.Testing;

namespace Wharf.Server.Tests.Host;

/// <summary><c>wharf check</c>, <c>wharf gc</c> and <c>--help</c>, run as the real program over a real data directory.</summary>
public sealed class CommandTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    // A healthy store and the basic damage are covered by CheckCommandTests; this adds a size mismatch
    // and proves one line per problem.
    [Fact]
    public async Task Check_prints_one_line_per_damaged_blob_with_what_is_wrong()
    {
        await using var stack = await ServiceStack.CreateAsync(Grace);
        var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
        byte[][] layers = [ServiceStack.Random(3000), ServiceStack.Random(4000), ServiceStack.Random(5000)];
        await stack.PushImageAsync("team/app", "v1", config, layers);
        await stack.CloseAsync();

        var (missing, truncated, altered) = (Digest.Sha256Of(layers[0]), Digest.Sha256Of(layers[1]), Digest.Sha256Of(layers[2]));
        File.Delete(BlobFile(stack.Directory, missing));
        File.WriteAllBytes(BlobFile(stack.Directory, truncated), layers[1][..100]);
        var flipped = (byte[])layers[2].Clone();
        flipped[2500] ^= 0xff;
        File.WriteAllBytes(BlobFile(stack.Directory, altered), flipped);

        var damaged = await WharfAsync("check", "--data-dir", stack.Directory);

        Assert.Equal(1, damaged.ExitCode);
        var lines = damaged.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.StartsWith($"{missing}: ", StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{truncated}: 100 bytes stored, 4000 recorded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{altered}: content hashes to {Digest.Sha256Of(flipped)}", StringComparison.Ordinal));
        Assert.Contains("checked 4 referenced blobs: 3 problems", damaged.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gc_waits_for_a_lease_held_elsewhere_then_removes_only_unreferenced_blobs()
    {
        // The stack's clock is 25 hours behind the real one: its blobs are older than the grace window
        // and its upload session (24 h expiry) has expired.
        await using var stack = await ServiceStack.CreateAsync(Grace, start: DateTimeOffset.UtcNow - TimeSpan.FromHours(25));
        var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
        var layer = ServiceStack.Random(1000);
        await stack.PushImageAsync("team/app", "v1", config, layer);
        var orphan = await stack.UploadAsync("team/app", ServiceStack.Random(2000));
        var expired = await stack.Uploads.StartAsync(ServiceStack.Caller, ServiceStack.Repo("team/app"), CancellationToken.None);
        Assert.True(await stack.Store.Leases.TryAcquireAsync("gc", "a-server", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), CancellationToken.None));
        await stack.CloseAsync();

        var busy = await WharfAsync("gc", "--data-dir", stack.Directory);
        Assert.Equal(1, busy.ExitCode);
        Assert.Contains("job 'gc' is running on a server", busy.StandardError, StringComparison.Ordinal);
        Assert.NotNull(await stack.Blobs.StatAsync(orphan, CancellationToken.None));

        await stack.Store.Leases.ReleaseAsync("gc", "a-server", CancellationToken.None);
        await stack.CloseAsync();
        var run = await WharfAsync("gc", "--data-dir", stack.Directory);

        run.EnsureSuccess();
        Assert.Contains("removed 1 expired uploads, 1 blobs (2000 bytes), 0 orphaned staging areas", run.StandardOutput, StringComparison.Ordinal);
        Assert.Null(await stack.Blobs.StatAsync(orphan, CancellationToken.None));
        Assert.Null(await stack.Blobs.GetUploadSizeAsync(expired.Id, CancellationToken.None));
        Assert.NotNull(await stack.Blobs.StatAsync(Digest.Sha256Of(layer), CancellationToken.None));
        Assert.NotNull(await stack.Blobs.StatAsync(Digest.Sha256Of(config), CancellationToken.None));
        (await WharfAsync("check", "--data-dir", stack.Directory)).EnsureSuccess();
    }

    [Fact]
    public async Task Check_refuses_a_data_directory_without_a_store_and_does_not_create_one()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), "wharf-nowhere-" + Guid.NewGuid().ToString("N"));

        var result = await WharfAsync("check", "--data-dir", nowhere);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"wharf: there is no Wharf database at '{Path.Combine(nowhere, "wharf.db")}'; pass --data-dir (or --metadata-connection) with what 'wharf serve' uses", result.StandardError.TrimEnd());
        Assert.False(Directory.Exists(nowhere));
    }

    [Fact]
    public async Task Help_lists_every_command_and_every_flag_with_the_setting_it_overrides()
    {
        var root = (await WharfAsync("--help")).EnsureSuccess().StandardOutput;
        foreach (var expected in new[] { "serve", "check", "gc", "--config <file>", "--data-dir <dir>", "--metadata <sqlite|postgres>", "--metadata-connection", "--address <ip>", "--port <port>", "--allow-insecure-open", "WHARF__Registry__CreateOnPush=false" })
        {
            Assert.Contains(expected, root, StringComparison.Ordinal);
        }

        var serve = (await WharfAsync("serve", "--help")).EnsureSuccess().StandardOutput;
        foreach (var setting in new[] { "Setting Address", "Setting Port", "Setting DataDirectory", "Setting Metadata:Backend", "Setting Metadata:ConnectionString", "Setting AllowInsecureOpen", "ShutdownTimeout" })
        {
            Assert.Contains(setting, serve, StringComparison.Ordinal);
        }

        var check = (await WharfAsync("check", "--help")).EnsureSuccess().StandardOutput;
        Assert.Contains("re-hashed", check, StringComparison.Ordinal);
        Assert.DoesNotContain("--port", check, StringComparison.Ordinal);
    }

    private static string BlobFile(string dataDirectory, Digest digest) =>
        Path.Combine(dataDirectory, "blobs", "blobs", digest.AlgorithmName, digest.Hex[..2], digest.Hex);

    private static Task<ProcessResult> WharfAsync(params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [WharfProcess.ServerDll, .. args], TimeSpan.FromSeconds(60));
}
