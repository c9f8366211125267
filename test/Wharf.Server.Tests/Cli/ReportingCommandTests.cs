using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Wharf.Server.Cli;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Cli;

/// <summary>
/// One data directory with two pushed images, shared by the tests of the reporting commands: run as the
/// real program with redirected output (as scripts and CI run them), so progress is plain lines on stderr.
/// </summary>
public sealed class PushedInstall : IAsyncLifetime
{
    public string Directory { get; private set; } = "";

    public byte[][] Blobs { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        // Closed, not disposed: disposing would delete the directory the tests run on (DisposeAsync does).
        var stack = await ServiceStack.CreateAsync(TimeSpan.FromHours(1), start: DateTimeOffset.UtcNow);
        Directory = stack.Directory;
        var (config1, config2) = (Encoding.UTF8.GetBytes("""{"os":"linux","v":1}"""), Encoding.UTF8.GetBytes("""{"os":"linux","v":2}"""));
        var (base_, app1, app2) = (ServiceStack.Random(3000), ServiceStack.Random(2000), ServiceStack.Random(1000));
        await stack.PushImageAsync("team/app", "v1", config1, base_, app1);
        await stack.PushImageAsync("team/app", "v2", config2, base_, app2);
        Blobs = [config1, config2, base_, app1, app2];
        var repository = await stack.Store.Repositories.GetAsync(ServiceStack.Repo("team/app"), CancellationToken.None);
        await stack.Store.Lifecycle.SetPolicyAsync(
            repository!.Id,
            """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}""",
            CancellationToken.None);
        await stack.CloseAsync();
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <c>--json</c>, plain progress on stderr, <c>wharf status</c> against a running and a stopped server, and
/// <c>--version</c>, each run as the built <c>wharf</c>.
/// </summary>
public sealed class ReportingCommandTests(PushedInstall install) : IClassFixture<PushedInstall>
{
    [Fact]
    public async Task Version_names_the_commit_of_the_checkout()
    {
        var repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repository, "Wharf.slnx")))
        {
            repository = Path.GetDirectoryName(repository.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("Wharf.slnx not found above the test binaries");
        }

        var head = (await ProcessRunner.RunAsync("git", ["-C", repository, "rev-parse", "HEAD"])).EnsureSuccess().StandardOutput.Trim();

        var version = (await WharfAsync("--version")).EnsureSuccess().StandardOutput.Trim();

        var match = System.Text.RegularExpressions.Regex.Match(version, @"^wharf (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12})\)$");
        Assert.True(match.Success, version);
        Assert.StartsWith(match.Groups[2].Value, head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reporting_commands_print_one_json_document_on_stdout_and_progress_lines_on_stderr()
    {
        var data = install.Directory;

        var gc = await JsonAsync("gc", "--json", "--data-dir", data);
        Assert.Equal(0, gc.Json.GetProperty("blobsDeleted").GetInt32());
        Assert.Equal(0, gc.Json.GetProperty("expiredUploads").GetInt32());
        Assert.Equal(0, gc.Json.GetProperty("bytesFreed").GetInt64());
        Assert.Equal(0, gc.Json.GetProperty("stagingAreasRemoved").GetInt32());
        Assert.Contains("wharf gc: deleting unreferenced blobs: 0 done in ", gc.StandardError, StringComparison.Ordinal);
        Assert.Contains("wharf gc: checking staging areas: 0 done in ", gc.StandardError, StringComparison.Ordinal);

        var check = await JsonAsync("check", "--json", "--deep", "--data-dir", data);
        Assert.Equal(install.Blobs.Length, check.Json.GetProperty("blobsChecked").GetInt32());
        Assert.True(check.Json.GetProperty("deep").GetBoolean());
        Assert.Equal(0, check.Json.GetProperty("problemCount").GetInt32());
        Assert.Empty(check.Json.GetProperty("problems").EnumerateArray());
        Assert.Contains($"wharf check: checking referenced blobs: 0/{install.Blobs.Length}", check.StandardError, StringComparison.Ordinal);
        Assert.Contains($"wharf check: checking referenced blobs: {install.Blobs.Length}/{install.Blobs.Length} (100%) in ", check.StandardError, StringComparison.Ordinal);

        var lifecycle = await JsonAsync("lifecycle", "run", "--json", "--data-dir", data);
        Assert.False(lifecycle.Json.GetProperty("dryRun").GetBoolean());
        var repository = Assert.Single(lifecycle.Json.GetProperty("repositories").EnumerateArray());
        Assert.Equal(("team/app", "123456789012", 0, 0, 0), (repository.GetProperty("name").GetString(), repository.GetProperty("account").GetString(),
            repository.GetProperty("expired").GetInt32(), repository.GetProperty("archived").GetInt32(), repository.GetProperty("skipped").GetInt32()));
        Assert.Empty(repository.GetProperty("actions").EnumerateArray());
        Assert.Contains("wharf lifecycle run: applying lifecycle policies: 1/1 (100%) in ", lifecycle.StandardError, StringComparison.Ordinal);

        var export = Path.Combine(data, "Debian.json");
        await File.WriteAllTextAsync(export, "[" + string.Join(",", Enumerable.Range(1, 20).Select(Advisory)) + "]", TestContext.Current.CancellationToken);
        var import = await JsonAsync("vulndb", "import", export, "--json", "--data-dir", data);
        Assert.Equal(("Debian", 20), (import.Json.GetProperty("source").GetString(), import.Json.GetProperty("advisories").GetInt32()));
        var progress = import.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("wharf vulndb import: reading advisories: 0/20", progress[0]);
        Assert.Contains(progress, l => l.StartsWith("wharf vulndb import: reading advisories: 2/20 (10%), about ", StringComparison.Ordinal) && l.EndsWith(" left", StringComparison.Ordinal));
        Assert.Contains(progress, l => l.StartsWith("wharf vulndb import: reading advisories: 18/20 (90%)", StringComparison.Ordinal));
        Assert.StartsWith("wharf vulndb import: reading advisories: 20/20 (100%) in ", progress[^1], StringComparison.Ordinal);
        Assert.Equal(11, progress.Length);

        var sources = (await JsonAsync("vulndb", "status", "--json", "--data-dir", data)).Json.GetProperty("sources");
        var source = Assert.Single(sources.EnumerateArray());
        Assert.Equal(("Debian", 20), (source.GetProperty("name").GetString(), source.GetProperty("advisoryCount").GetInt32()));
        Assert.Equal(new DateTimeOffset(2024, 1, 20, 0, 0, 0, TimeSpan.Zero), source.GetProperty("updatedAt").GetDateTimeOffset());

        var keys = (await JsonAsync("admin", "list-token-keys", "--json", "--data-dir", data)).Json.GetProperty("keys");
        Assert.All(keys.EnumerateArray(), k => Assert.Contains(k.GetProperty("purpose").GetString(), new[] { "auth", "page", "download", "bearer" }));

        // Without --json the same commands print their one-line summaries on stdout, and progress still goes to stderr.
        var plain = (await WharfAsync("check", "--data-dir", data)).EnsureSuccess();
        var summary = plain.StandardOutput.Trim().Split('\n');
        Assert.Equal($"checked {install.Blobs.Length} referenced blobs: no problems", summary[0]);
        Assert.Matches(@"^\d+ referenced blobs stored unencrypted", Assert.Single(summary[1..]));
        Assert.Contains("wharf check: checking referenced blobs", plain.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_shows_a_running_server_its_backends_job_runs_and_counts_then_a_stopped_one_as_down()
    {
        var data = install.Directory;
        (await WharfAsync("gc", "--data-dir", data)).EnsureSuccess();

        // Upload expiry every second, so the server's own runs show without waiting.
        await using var server = await WharfProcess.StartAsync(data, new Dictionary<string, string> { ["WHARF__Uploads__SweepInterval"] = "00:00:01" });
        var port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        JsonElement report = default;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var status = await JsonAsync("status", "--json", "--data-dir", data, "--port", port);
            Assert.Equal(0, status.ExitCode);
            report = status.Json;
            if (Job(report, "upload-expiry").GetProperty("lastRunBy").GetString() is { } by && !by.StartsWith("wharf-gc/", StringComparison.Ordinal))
            {
                break;
            }
        }

        var expiry = Job(report, "upload-expiry");
        Assert.False(expiry.GetProperty("lastRunBy").GetString()!.StartsWith("wharf-gc/", StringComparison.Ordinal), "the server's upload expiry did not run within 30 s");
        Assert.True(expiry.GetProperty("lastSucceeded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, expiry.GetProperty("lastFailure").ValueKind);
        Assert.True(expiry.GetProperty("nextDueAt").GetDateTimeOffset() > expiry.GetProperty("lastStartedAt").GetDateTimeOffset());
        Assert.Contains("(wharf gc)", Job(report, "gc").GetProperty("lastOutcome").GetString(), StringComparison.Ordinal);

        Assert.Matches("^[0-9a-f]{40}$", report.GetProperty("commit").GetString());
        Assert.True(report.GetProperty("server").GetProperty("up").GetBoolean());
        Assert.True(report.GetProperty("server").GetProperty("ready").GetBoolean());
        Assert.Equal($"http://127.0.0.1:{port}/health/ready", report.GetProperty("server").GetProperty("url").GetString());
        Assert.Equal(("sqlite", Path.Combine(data, "wharf.db"), true), Backend(report, "metadata"));
        Assert.Equal(("filesystem", Path.Combine(data, "blobs"), true), Backend(report, "blobs"));
        AssertCounts(report.GetProperty("counts"));

        var human = await WharfAsync("status", "--data-dir", data, "--port", port);
        Assert.Equal(0, human.ExitCode);
        var lines = human.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Matches(@"^wharf \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)$", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("server", StringComparison.Ordinal) && l.Contains(" up ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("metadata", StringComparison.Ordinal) && l.Contains(" ok ", StringComparison.Ordinal));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^upload-expiry\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+[\d.]+ s\s+ok: "));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^manifests\s+2$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^blobs\s+5 \({StatusOutput.Bytes(install.Blobs.Sum(b => (long)b.Length)).Replace(".", @"\.", StringComparison.Ordinal)}\)$"));
        Assert.DoesNotContain('\u001b', human.StandardOutput);

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        var stopped = await JsonAsync("status", "--json", "--data-dir", data, "--port", port);
        Assert.Equal(1, stopped.ExitCode);
        Assert.False(stopped.Json.GetProperty("server").GetProperty("up").GetBoolean());
        Assert.Contains("nothing answers", stopped.Json.GetProperty("server").GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.True(stopped.Json.GetProperty("metadata").GetProperty("healthy").GetBoolean());
        AssertCounts(stopped.Json.GetProperty("counts"));
        var down = await WharfAsync("status", "--data-dir", data, "--port", port);
        Assert.Equal(1, down.ExitCode);
        Assert.Contains(down.StandardOutput.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith("server", StringComparison.Ordinal) && l.Contains(" down ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("status", "--bogus")]
    [InlineData("gc", "--jsn")]
    [InlineData("check", "--json", "extra")]
    [InlineData("status", "--port", "http")]
    public async Task Bad_flags_give_one_line_and_exit_2(params string[] args)
    {
        var result = await WharfAsync([.. args, "--data-dir", install.Directory]);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.StandardOutput);
        Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wharf: ", result.StandardError, StringComparison.Ordinal);
    }

    private void AssertCounts(JsonElement counts)
    {
        Assert.Equal(1, counts.GetProperty("repositories").GetInt64());
        Assert.Equal(2, counts.GetProperty("manifests").GetInt64());
        Assert.Equal(install.Blobs.Length, counts.GetProperty("blobs").GetInt64());
        Assert.Equal(install.Blobs.Sum(b => (long)b.Length), counts.GetProperty("blobBytes").GetInt64());
        Assert.Equal(0, counts.GetProperty("uploadsInProgress").GetInt64());
        Assert.Equal(0, counts.GetProperty("pendingScans").GetInt64());
        Assert.Equal(0, counts.GetProperty("pendingReplications").GetInt64());
    }

    private static JsonElement Job(JsonElement report, string name) =>
        report.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);

    private static (string?, string?, bool) Backend(JsonElement report, string name) =>
        (report.GetProperty(name).GetProperty("backend").GetString(), report.GetProperty(name).GetProperty("location").GetString(), report.GetProperty(name).GetProperty("healthy").GetBoolean());

    private static string Advisory(int i) =>
        $$"""{"id":"DEBIAN-CVE-2024-{{i:D4}}","modified":"2024-01-{{i:D2}}T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"pkg{{i}}"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}""";

    /// <summary>Runs a command that must succeed and print exactly one JSON document on stdout.</summary>
    private static async Task<(int ExitCode, JsonElement Json, string StandardError)> JsonAsync(params string[] args)
    {
        var result = await WharfAsync(args);
        Assert.True(result.ExitCode is 0 or 1, $"wharf {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError}");
        using var document = JsonDocument.Parse(result.StandardOutput);
        return (result.ExitCode, document.RootElement.Clone(), result.StandardError);
    }

    private static Task<ProcessResult> WharfAsync(params string[] args) =>
        WharfCommand.RunAsync([.. args], TimeSpan.FromSeconds(60));
}
