using System.Diagnostics;
using System.Text;
using Wharf.Core.Primitives;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Cli;

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

        var shallow = await WharfAsync("check", "--data-dir", stack.Directory);
        var damaged = await WharfAsync("check", "--deep", "--data-dir", stack.Directory);

        // Without --deep only presence and size are checked: the altered blob has the right size.
        Assert.Equal(1, shallow.ExitCode);
        Assert.Contains("checked 4 referenced blobs: 2 problems", shallow.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(altered.ToString(), shallow.StandardError, StringComparison.Ordinal);

        Assert.Equal(1, damaged.ExitCode);
        // Beside the problems, stderr has the progress lines ("wharf check: …"); ReportingCommandTests checks those.
        var lines = damaged.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("wharf check: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lines.Count);
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
        Assert.False(await stack.Blobs.UploadExistsAsync(expired.Id, CancellationToken.None));
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
        foreach (var expected in new[] { "serve", "check", "gc", "--config <file>", "--data-dir <dir>", "--metadata <sqlite|postgres>", "--metadata-connection", "--address <ip>", "--port <port>", "--public-port <port>", "--public-host <host>", "--allow-insecure-open", "--tls-cert <file>", "--tls-key <file>", "--tls <self-signed>", "--allow-plain-http", "--idle-trim-after <seconds>", "Setting IdleTrimAfter", "WHARF__Registry__CreateOnPush=false" })
        {
            Assert.Contains(expected, root, StringComparison.Ordinal);
        }

        var serve = (await WharfAsync("serve", "--help")).EnsureSuccess().StandardOutput;
        foreach (var setting in new[] { "Setting Address", "Setting Port", "Setting Public:Port", "Setting Public:Host", "Setting DataDirectory", "Setting Metadata:Backend", "Setting Metadata:ConnectionString", "Setting AllowInsecureOpen", "Setting Tls:Certificate", "Setting Tls:Key", "Setting Tls:SelfSigned", "Setting AllowPlainHttp", "ShutdownTimeout", "Limits:*" })
        {
            Assert.Contains(setting, serve, StringComparison.Ordinal);
        }

        var check = (await WharfAsync("check", "--help")).EnsureSuccess().StandardOutput;
        Assert.Contains("re-hashed", check, StringComparison.Ordinal);
        Assert.Contains("--deep", check, StringComparison.Ordinal);
        Assert.DoesNotContain("--port", check, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_policy_document_reads_the_file_named_by_at_or_file_url_and_names_a_missing_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wharf-admin-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using (var created = new SqliteMetadataStore(Path.Combine(dir, "wharf.db")))
            {
                await created.MigrateAsync(CancellationToken.None);
            }

            (await WharfAsync("admin", "create-user", "alice", "--data-dir", dir)).EnsureSuccess();
            const string Deny = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:BatchDeleteImage","Resource":"*"}]}""";
            const string Allow = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeImages","Resource":"*"}]}""";
            await File.WriteAllTextAsync(Path.Combine(dir, "deny.json"), Deny);
            await File.WriteAllTextAsync(Path.Combine(dir, "allow.json"), Allow);

            // As the README writes it: @file, relative to where the command runs (not a response file).
            (await WharfCommand.RunAsync(["admin", "put-user-policy", "--user", "alice", "--policy-name", "at", "--policy-document", "@deny.json", "--data-dir", dir],
                TimeSpan.FromSeconds(60),
                workingDirectory: dir)).EnsureSuccess();
            (await WharfAsync("admin", "put-user-policy", "--user", "alice", "--policy-name", "url", "--policy-document", "file://" + Path.Combine(dir, "allow.json"), "--data-dir", dir)).EnsureSuccess();
            var missingPath = Path.Combine(dir, "nope.json");
            var missing = await WharfAsync("admin", "put-user-policy", "--user", "alice", "--policy-name", "gone", "--policy-document", "@" + missingPath, "--data-dir", dir);

            Assert.Equal(2, missing.ExitCode);
            Assert.Equal($"wharf: the policy document file '{missingPath}' does not exist; pass --policy-document with the JSON itself, @path or file://path", missing.StandardError.TrimEnd());
            await using var store = new SqliteMetadataStore(Path.Combine(dir, "wharf.db"));
            var (inline, _) = await store.Identities.GetPoliciesAsync("arn:aws:iam::123456789012:user/alice", CancellationToken.None);
            Assert.Equal([("at", Deny), ("url", Allow)], inline.OrderBy(p => p.Name, StringComparer.Ordinal));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Dotnet_run_from_the_repository_root_keeps_the_data_and_root_credentials_in_its_wharf_data()
    {
        // The README's quick start: `dotnet run --project src/Wharf.Server`, then ./wharf-data/root-credentials.
        // A copy-free stand-in for the repository root: a fresh directory as the working directory.
        var repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repository, "Wharf.slnx")))
        {
            repository = Path.GetDirectoryName(repository.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("Wharf.slnx not found above the test binaries");
        }

        var project = Path.Combine(repository, "src", "Wharf.Server");
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<configuration>/<tfm>
        var cwd = Path.Combine(Path.GetTempPath(), "wharf-cwd-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(cwd);
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = cwd, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "run", "--project", project, "-c", configuration, "--no-build", "--", "--port", "0", "--public-port", "0" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var credentials = Path.Combine(cwd, "wharf-data", "root-credentials");
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!File.Exists(credentials) && !process.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.True(File.Exists(credentials), $"no {credentials}; output:\n{output}");
            Assert.Contains("aws_access_key_id", await File.ReadAllTextAsync(credentials), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(cwd, "wharf-data", "wharf.db")));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(cwd, recursive: true);
        }
    }

    private static string BlobFile(string dataDirectory, Digest digest) =>
        Path.Combine(dataDirectory, "blobs", "blobs", digest.AlgorithmName, digest.Hex[..2], digest.Hex);

    private static Task<ProcessResult> WharfAsync(params string[] args) =>
        WharfCommand.RunAsync([.. args], TimeSpan.FromSeconds(60));
}
