using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Durability;

/// <summary>
/// SIGKILL the server at random moments during concurrent pushes, many rounds, then prove that every
/// acknowledged push pulls byte-identical, nothing half-visible exists, and staging is cleaned.
/// </summary>
public sealed class CrashSafetyTests
{
    private const int Rounds = 20;
    private const int Pushers = 4;

    private sealed record Acknowledged(string Repository, string Tag, byte[] Manifest, byte[][] Blobs);

    [Fact]
    public async Task Acknowledged_pushes_survive_SIGKILL_and_nothing_is_half_visible()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var acknowledged = new ConcurrentBag<Acknowledged>();
        var random = new Random(20261124);
        var shared = RandomBytes(random, 256 * 1024);
        var attempts = 0;

        try
        {
            for (var round = 0; round < Rounds; round++)
            {
                // Sessions expire 5 s after they start (a push here takes milliseconds), so that the final
                // run below can show that what the crashes left staged is cleaned up.
                await using var server = await WharfProcess.StartAsync(dataDirectory, new Dictionary<string, string> { ["WHARF__Uploads__Expiry"] = "00:00:05" });
                using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                var pusher = new OciPusher(client);
                using var stop = new CancellationTokenSource();
                var killed = 0;
                var acknowledgedThisRound = 0;
                var seeds = Enumerable.Range(0, Pushers).Select(_ => random.Next()).ToArray();
                var workers = seeds.Select((seed, worker) => Task.Run(async () =>
                {
                    var rng = new Random(seed);
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        Interlocked.Increment(ref attempts);
                        var repository = $"crash/r{rng.Next(3)}";
                        var tag = $"round{round}-w{worker}-{i}";
                        var layer = RandomBytes(rng, rng.Next(1, 2048) * 1024);
                        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","tag":"{{tag}}"}""");
                        try
                        {
                            if (rng.Next(2) == 0)
                            {
                                await pusher.PushBlobMonolithicAsync(repository, layer, stop.Token);
                            }
                            else
                            {
                                await pusher.PushBlobChunkedAsync(repository, layer, 96 * 1024, stop.Token);
                            }

                            await pusher.PushBlobMonolithicAsync(repository, shared, stop.Token);
                            await pusher.PushBlobMonolithicAsync(repository, config, stop.Token);
                            var manifest = await pusher.PushManifestAsync(repository, tag, config, [layer, shared], stop.Token);
                            acknowledged.Add(new Acknowledged(repository, tag, manifest, [config, layer, shared]));
                            Interlocked.Increment(ref acknowledgedThisRound);
                        }
                        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                        {
                            if (Volatile.Read(ref killed) == 1 || server.HasExited || stop.IsCancellationRequested)
                            {
                                return;
                            }

                            throw new InvalidOperationException($"push failed while the server ran: {e.Message}\nserver output:\n{server.StandardOutput}\n{server.StandardError}", e);
                        }
                    }
                })).ToArray();

                // The kill comes at a random moment after the round's first acknowledged push (on a loaded machine a
                // push can take longer than a fixed window, and a round that acknowledged nothing proves nothing).
                var firstAcknowledged = Stopwatch.StartNew();
                while (Volatile.Read(ref acknowledgedThisRound) == 0 && firstAcknowledged.Elapsed < TimeSpan.FromSeconds(30) && !workers.Any(w => w.IsCompleted))
                {
                    await Task.Delay(5);
                }

                await Task.Delay(random.Next(0, 800));
                Volatile.Write(ref killed, 1);
                server.Kill();
                await stop.CancelAsync();
                await Task.WhenAll(workers);
            }

            Assert.True(acknowledged.Count >= Rounds, $"only {acknowledged.Count} of {attempts} pushes were acknowledged: the test proved little");

            // Restart with zero grace and fast sweeps so the background jobs clean what the crashes left behind.
            var cleanup = new Dictionary<string, string>
            {
                ["WHARF__Uploads__Expiry"] = "00:00:05",
                ["WHARF__Uploads__SweepInterval"] = "00:00:01",
                ["WHARF__Gc__GraceWindow"] = "00:00:00",
                ["WHARF__Gc__Interval"] = "00:00:01",
            };
            await using (var server = await WharfProcess.StartAsync(dataDirectory, cleanup))
            {
                using var client = new HttpClient { BaseAddress = server.BaseAddress };
                var pusher = new OciPusher(client);
                foreach (var push in acknowledged)
                {
                    var digest = OciPusher.Sha256(push.Manifest);
                    Assert.Equal(push.Manifest, await pusher.GetAsync($"/v2/{push.Repository}/manifests/{push.Tag}"));
                    Assert.Equal(push.Manifest, await pusher.GetAsync($"/v2/{push.Repository}/manifests/{digest}"));
                    foreach (var blob in push.Blobs)
                    {
                        Assert.Equal(blob, await pusher.GetAsync($"/v2/{push.Repository}/blobs/{OciPusher.Sha256(blob)}"));
                    }
                }

                var uploads = Path.Combine(dataDirectory, "blobs", "uploads");
                var deadline = DateTime.UtcNow.AddSeconds(45);
                while (Directory.Exists(uploads) && Directory.EnumerateFileSystemEntries(uploads).Any() && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                }

                Assert.False(Directory.Exists(uploads) && Directory.EnumerateFileSystemEntries(uploads).Any(), "staged uploads were left behind after expiry");
            }

            // Every manifest's blobs are present with the right digest.
            var check = await WharfCommand.RunAsync(["check", "--deep", "--data-dir", dataDirectory], TimeSpan.FromMinutes(2));
            Assert.True(check.ExitCode == 0, $"wharf check found problems:\n{check.StandardOutput}\n{check.StandardError}");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
