using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Encryption;

/// <summary>
/// Issue 21 point 4 (and point 5's migration): an install whose blobs were written in plaintext is encrypted in
/// place by <c>wharf encrypt</c> while a client keeps pulling, every pulled byte right; afterwards the raw files hold
/// none of the plaintext and <c>wharf check</c> reports nothing unencrypted; a run that is killed resumes.
/// </summary>
public sealed class EncryptionMigrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_plaintext_install_is_encrypted_in_place_while_a_client_keeps_pulling()
    {
        var directory = NewDirectory();
        try
        {
            // Layers of several 64 KiB segments (and a last partial one), and one smaller than a segment.
            var layers = new[] { Random(300_000), Random(70_000), Random(5_000) };
            var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux"}""");
            await PushPlaintextInstallAsync(directory, [("team/app", "v1", config, layers[..2]), ("team/other", "v1", config, layers[1..])]);
            Assert.All(layers, layer => Assert.True(RawFilesContain(directory, layer), "sealing off writes plaintext"));

            await using var server = await WharfTestServer.StartAsync(Sealing(background: false), directory);
            using var client = server.CreateClient();
            using var pulling = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var pulls = PullLoopAsync(client, [("team/app", layers[0]), ("team/app", layers[1]), ("team/other", layers[2])], pulling.Token);

            // The migration runs beside the serving process, as an operator runs it.
            var started = pulls.Count;
            var result = await WharfCommand.RunAsync(["encrypt", "--grace", "00:00:02", "--wait", "--json", .. server.StoreArguments], TimeSpan.FromMinutes(2), cancellationToken: Ct);
            result.EnsureSuccess();
            var during = pulls.Count - started;

            // A few more pulls once the plaintext is gone: they are served from the sealed copies alone.
            var after = pulls.Count;
            await PollAsync(() => pulls.Count >= after + 10 || pulls.Task.IsCompleted);
            await pulling.CancelAsync();
            var errors = await pulls.Task;

            Assert.Empty(errors);
            Assert.True(during > 0, "the client pulled while the migration ran");
            using (var report = JsonDocument.Parse(result.StandardOutput))
            {
                var root = report.RootElement;
                Assert.Equal(4, root.GetProperty("plaintextBlobs").GetInt64()); // three layers and the config
                Assert.Equal(4, root.GetProperty("plaintextDeleted").GetInt64());
                Assert.Equal(0, root.GetProperty("failed").GetInt64());
                Assert.Equal(0, root.GetProperty("unencrypted").GetInt64());
            }

            Assert.All(layers, layer => Assert.False(RawFilesContain(directory, layer), "no plaintext is left in the data directory"));

            var check = await WharfCommand.RunAsync(["check", "--deep", "--json", .. server.StoreArguments], TimeSpan.FromMinutes(1), cancellationToken: Ct);
            check.EnsureSuccess();
            using var checkReport = JsonDocument.Parse(check.StandardOutput);
            Assert.Equal(0, checkReport.RootElement.GetProperty("problemCount").GetInt32());
            Assert.Equal(0, checkReport.RootElement.GetProperty("unencrypted").GetInt32());
            Assert.Equal(4, checkReport.RootElement.GetProperty("blobsChecked").GetInt32());
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Check_reports_unencrypted_blobs_and_a_killed_encrypt_resumes_where_it_stopped()
    {
        var directory = NewDirectory();
        try
        {
            var layers = Enumerable.Range(0, 6).Select(_ => Random(100_000)).ToArray();
            var config = Encoding.UTF8.GetBytes("""{"architecture":"arm64","os":"linux"}""");
            await PushPlaintextInstallAsync(directory, [("team/app", "v1", config, layers)]);
            string[] store = ["--data-dir", directory];

            var before = await WharfCommand.RunAsync(["check", .. store], TimeSpan.FromMinutes(1), cancellationToken: Ct);
            before.EnsureSuccess();
            Assert.Contains("7 referenced blobs stored unencrypted: run 'wharf encrypt'", before.StandardOutput, StringComparison.Ordinal);

            // Killed once every blob is sealed but its plaintext still kept (the grace period is long): nothing is lost.
            using (var killed = Start(["encrypt", "--grace", "01:00:00", "--wait", .. store], ("WHARF__Jobs__Lease", "00:00:03")))
            {
                await PollAsync(() => killed.Error.ToString().Contains("sealing plaintext blobs: 7 done", StringComparison.Ordinal) || killed.Process.HasExited);
                Assert.False(killed.Process.HasExited, killed.Error.ToString());
                killed.Process.Kill(entireProcessTree: true);
                await killed.Process.WaitForExitAsync(Ct);
            }

            Assert.All(layers, layer => Assert.True(RawFilesContain(directory, layer), "a killed run deleted no plaintext"));

            // The killed run's lease holds the job until it expires; then the second run finds every copy sealed already
            // and only deletes the plaintext.
            ProcessResult resumed;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((resumed = await WharfCommand.RunAsync(["encrypt", "--grace", "0", "--json", .. store], TimeSpan.FromMinutes(1), cancellationToken: Ct)).ExitCode == 1
                && resumed.StandardError.Contains("is running on a server right now", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, Ct);
            }

            resumed.EnsureSuccess();
            using (var report = JsonDocument.Parse(resumed.StandardOutput))
            {
                Assert.Equal(7, report.RootElement.GetProperty("plaintextBlobs").GetInt64());
                Assert.Equal(0, report.RootElement.GetProperty("copiesSealed").GetInt64());
                Assert.Equal(7, report.RootElement.GetProperty("plaintextDeleted").GetInt64());
            }

            Assert.All(layers, layer => Assert.False(RawFilesContain(directory, layer)));
            var after = await WharfCommand.RunAsync(["check", "--deep", .. store], TimeSpan.FromMinutes(1), cancellationToken: Ct);
            after.EnsureSuccess();
            Assert.Contains("0 referenced blobs stored unencrypted", after.StandardOutput, StringComparison.Ordinal);

            // Nothing left to do: a third run finds no plaintext.
            var third = await WharfCommand.RunAsync(["encrypt", "--json", .. store], TimeSpan.FromMinutes(1), cancellationToken: Ct);
            third.EnsureSuccess();
            using var empty = JsonDocument.Parse(third.StandardOutput);
            Assert.Equal(0, empty.RootElement.GetProperty("plaintextBlobs").GetInt64());
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_server_encrypts_a_plaintext_install_in_the_background()
    {
        var directory = NewDirectory();
        try
        {
            var layer = Random(200_000);
            var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux"}""");
            await PushPlaintextInstallAsync(directory, [("team/app", "v1", config, [layer])]);

            // The job runs at start and on Gc:Interval; plaintext goes Gc:GraceWindow after it was sealed.
            var settings = Sealing(background: true);
            settings["Gc:Interval"] = "00:00:01";
            settings["Gc:GraceWindow"] = "00:00:01";
            await using var server = await WharfTestServer.StartAsync(settings, directory);
            using var client = server.CreateClient();
            await PollAsync(() => !RawFilesContain(directory, layer), TimeSpan.FromSeconds(60));

            Assert.Equal(layer, await new OciPusher(client).GetAsync($"/v2/team/app/blobs/{OciPusher.Sha256(layer)}", Ct));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static Dictionary<string, string?> Sealing(bool background) => new()
    {
        ["Encryption:Migration:Enabled"] = background ? "true" : "false",
        ["Gc:Enabled"] = "false",
    };

    /// <summary>Pushes the images with sealing off, then stops the server and keeps its data directory.</summary>
    private static async Task PushPlaintextInstallAsync(string directory, IReadOnlyList<(string Repository, string Tag, byte[] Config, byte[][] Layers)> images)
    {
        var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Encryption:Enabled"] = "false", ["Gc:Enabled"] = "false" }, directory);
        using (var client = server.CreateClient())
        {
            var pusher = new OciPusher(client);
            foreach (var (repository, tag, config, layers) in images)
            {
                foreach (var blob in layers.Prepend(config))
                {
                    await pusher.PushBlobMonolithicAsync(repository, blob, Ct);
                }

                await pusher.PushManifestAsync(repository, tag, config, layers, Ct);
            }
        }

        // Stopped without the wrapper's dispose, which would delete the data directory.
        await server.App.StopAsync(Ct);
        await server.App.DisposeAsync();
    }

    /// <summary>
    /// GETs each blob whole and a range across a segment boundary, round after round until cancelled; every body must
    /// be the very bytes pushed. Returns the failures (empty when every pull was right).
    /// </summary>
    private static PullLoop PullLoopAsync(HttpClient client, IReadOnlyList<(string Repository, byte[] Content)> blobs, CancellationToken cancellationToken)
    {
        var loop = new PullLoop();
        loop.Task = Task.Run(async () =>
        {
            var errors = new List<string>();
            while (!cancellationToken.IsCancellationRequested)
            {
                foreach (var (repository, content) in blobs)
                {
                    try
                    {
                        var path = $"/v2/{repository}/blobs/{OciPusher.Sha256(content)}";
                        using var whole = await client.GetAsync(path, cancellationToken);
                        var body = await whole.Content.ReadAsByteArrayAsync(cancellationToken);
                        if (whole.StatusCode != HttpStatusCode.OK || !body.AsSpan().SequenceEqual(content))
                        {
                            errors.Add($"GET {path}: {(int)whole.StatusCode}, {body.Length} bytes, {(body.AsSpan().SequenceEqual(content) ? "same" : "different")} bytes");
                        }

                        // Across the first segment boundary (64 KiB) where there is one, else the middle third.
                        var (from, to) = content.Length > 65_536 + 100 ? (65_536 - 100, 65_536 + 99) : (content.Length / 3, content.Length * 2 / 3);
                        using var request = new HttpRequestMessage(HttpMethod.Get, path);
                        request.Headers.Range = new RangeHeaderValue(from, to);
                        using var ranged = await client.SendAsync(request, cancellationToken);
                        var part = await ranged.Content.ReadAsByteArrayAsync(cancellationToken);
                        if (ranged.StatusCode != HttpStatusCode.PartialContent || !part.AsSpan().SequenceEqual(content.AsSpan(from, to - from + 1)))
                        {
                            errors.Add($"GET {path} bytes {from}-{to}: {(int)ranged.StatusCode}, {part.Length} bytes");
                        }

                        Interlocked.Increment(ref loop.Pulls);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return errors;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        errors.Add($"{repository}: {e.GetType().Name}: {e.Message}");
                    }
                }
            }

            return errors;
        }, CancellationToken.None);
        return loop;
    }

    private sealed class PullLoop
    {
        public int Pulls;

        public int Count => Volatile.Read(ref Pulls);

        public Task<List<string>> Task { get; set; } = null!;
    }

    private sealed class Running(Process process, StringBuilder error) : IDisposable
    {
        public Process Process { get; } = process;

        public StringBuilder Error { get; } = error;

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }

    private static Running Start(IEnumerable<string> arguments, params (string Name, string Value)[] environment)
    {
        var info = WharfCommand.StartInfo(arguments);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var error = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (error)
                {
                    error.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Running(process, error);
    }

    /// <summary>Whether any file under <paramref name="directory"/> holds <paramref name="content"/>'s first 64 bytes (random, so nothing else does).</summary>
    private static bool RawFilesContain(string directory, byte[] content)
    {
        var needle = content.AsSpan(0, 64);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            try
            {
                if (File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // A file removed or rewritten while listed (SQLite's journal): what matters is checked again later.
            }
        }

        return false;
    }

    private static async Task PollAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50, Ct);
        }
    }

    private static byte[] Random(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-encrypt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
