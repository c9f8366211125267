using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Wharf.Core.Primitives;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Cli;

/// <summary>
/// <c>wharf migrate</c> run as the real program: an embedded install filled through the real server
/// (IAM mode, a pushed image, policies, a user with a key) moved to a fresh PostgreSQL database and
/// blob directory (or an S3 bucket on the suite's RGW), then served from there.
/// </summary>
public sealed partial class MigrateCommandTests
{
    private const string Region = "us-east-1";
    private const string Repository = "mig/app";

    private const string RepositoryPolicy =
        """{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}""";

    private const string LifecyclePolicy =
        """{"rules":[{"rulePriority":1,"description":"old untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}""";

    private const string AllowEcr = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}""";

    [Fact]
    public async Task Migrate_moves_an_embedded_install_to_PostgreSQL_and_the_old_key_pulls_the_same_bytes_from_it()
    {
        var source = TempDirectory("wharf-migrate-src-");
        var target = TempDirectory("wharf-migrate-dst-");
        var connection = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
        try
        {
            var config = Encoding.UTF8.GetBytes("""{"os":"linux","architecture":"amd64"}""");
            byte[][] layers = [ServiceStack.Random(300_000), ServiceStack.Random(5000)];
            byte[] manifest;
            Dictionary<string, string> alice;
            string repositoryPolicy, lifecyclePolicy, tagsBefore, scanBefore;
            var embedded = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Scanning:Interval"] = "00:00:01" }, dataDirectory: source);
            try
            {
                var root = AwsClients.ReadCredentialsFile(Path.Combine(source, "root-credentials"));
                using (var client = await IamTestAccess.V2ClientAsync(embedded, Region, root))
                {
                    var pusher = new OciPusher(client);
                    foreach (var blob in layers.Prepend(config))
                    {
                        await pusher.PushBlobMonolithicAsync(Repository, blob);
                    }

                    manifest = await pusher.PushManifestAsync(Repository, "v1", config, layers);
                    await pusher.PushManifestAsync(Repository, "latest", config, layers);
                }

                (await Ecr(embedded.BaseAddress, root, "set-repository-policy", "--repository-name", Repository, "--policy-text", RepositoryPolicy)).EnsureSuccess();
                (await Ecr(embedded.BaseAddress, root, "put-lifecycle-policy", "--repository-name", Repository, "--lifecycle-policy-text", LifecyclePolicy)).EnsureSuccess();
                (await IamTestAccess.AdminAsync(embedded, "create-user", "alice")).EnsureSuccess();
                (await IamTestAccess.AdminAsync(embedded, "put-user-policy", "--user", "alice", "--policy-name", "ecr", "--policy-document", AllowEcr)).EnsureSuccess();
                alice = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(embedded, "create-access-key", "--user", "alice"));
                repositoryPolicy = await PolicyTextAsync(embedded.BaseAddress, alice, "get-repository-policy");
                lifecyclePolicy = await PolicyTextAsync(embedded.BaseAddress, alice, "get-lifecycle-policy");
                tagsBefore = await ImageTagsAsync(embedded.BaseAddress, alice);
                (await Ecr(embedded.BaseAddress, alice, "start-image-scan", "--repository-name", Repository, "--image-id", "imageTag=v1")).EnsureSuccess();
                scanBefore = await ScanAsync(embedded.BaseAddress, alice, finished: true);
            }
            finally
            {
                // Stopped as an operator would before migrating.
                await StopKeepingDataAsync(embedded);
            }

            var migrated = await MigrateAsync("--from", source, "--data-dir", target, "--metadata", "postgres", "--metadata-connection", connection, "--deep");

            Assert.True(migrated.ExitCode == 0, migrated.StandardOutput + migrated.StandardError);
            var copied = BlobLine().Match(migrated.StandardOutput);
            Assert.True(copied.Success, migrated.StandardOutput);
            Assert.True(int.Parse(copied.Groups["copied"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 3, migrated.StandardOutput);
            Assert.Equal("0", copied.Groups["present"].Value);
            Assert.Equal("0", copied.Groups["failed"].Value);
            Assert.Contains($"and {copied.Groups["copied"].Value} blobs' sizes and digests, match", migrated.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(source, "master.key")), await File.ReadAllTextAsync(Path.Combine(target, "master.key")));

            // The destination is now in use: a second run is refused with one line and changes nothing.
            var again = await MigrateAsync("--from", source, "--data-dir", target, "--metadata", "postgres", "--metadata-connection", connection);
            Assert.Equal(2, again.ExitCode);
            Assert.Single(again.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("the destination database is not empty (", again.StandardError, StringComparison.Ordinal);
            Assert.Contains("--overwrite", again.StandardError, StringComparison.Ordinal);

            var cluster = await WharfTestServer.StartAsync(
                new Dictionary<string, string?> { ["Auth"] = "Iam", ["Metadata:Backend"] = "Postgres", ["Metadata:ConnectionString"] = connection, ["Scanning:Interval"] = "40.00:00:00" },
                dataDirectory: target);
            try
            {
                // The root key came along: the destination made no new one.
                Assert.False(File.Exists(Path.Combine(target, "root-credentials")));
                Assert.Equal(repositoryPolicy, await PolicyTextAsync(cluster.BaseAddress, alice, "get-repository-policy"));
                Assert.Equal(lifecyclePolicy, await PolicyTextAsync(cluster.BaseAddress, alice, "get-lifecycle-policy"));
                Assert.Equal(tagsBefore, await ImageTagsAsync(cluster.BaseAddress, alice));
                Assert.Equal(scanBefore, await ScanAsync(cluster.BaseAddress, alice, finished: false));

                using var client = await IamTestAccess.V2ClientAsync(cluster, Region, alice);
                var pusher = new OciPusher(client);
                Assert.Equal(manifest, await pusher.GetAsync($"/v2/{Repository}/manifests/v1"));
                foreach (var blob in layers.Prepend(config))
                {
                    Assert.Equal(blob, await pusher.GetAsync($"/v2/{Repository}/blobs/{Digest.Sha256Of(blob)}"));
                }

                // New rows take ids past the copied ones: a new repository (and its events) insert cleanly.
                var fresh = ServiceStack.Random(1000);
                await pusher.PushBlobMonolithicAsync("mig/new", config);
                await pusher.PushBlobMonolithicAsync("mig/new", fresh);
                await pusher.PushManifestAsync("mig/new", "v1", config, [fresh]);
                var listed = (await Ecr(cluster.BaseAddress, alice, "describe-repositories")).EnsureSuccess().StandardOutput;
                Assert.Contains("\"mig/new\"", listed, StringComparison.Ordinal);
                Assert.Contains($"\"{Repository}\"", listed, StringComparison.Ordinal);
            }
            finally
            {
                // Its data is kept for the re-run below, which must find the blobs copied the first time.
                await StopKeepingDataAsync(cluster);
            }

            // Re-runnable: with --overwrite the tables are replaced and every blob is found already there.
            var rerun = await MigrateAsync("--from", source, "--data-dir", target, "--metadata", "postgres", "--metadata-connection", connection, "--overwrite");
            Assert.True(rerun.ExitCode == 0, rerun.StandardOutput + rerun.StandardError);
            var skipped = BlobLine().Match(rerun.StandardOutput);
            Assert.Equal("0", skipped.Groups["copied"].Value);
            Assert.Equal(copied.Groups["copied"].Value, skipped.Groups["present"].Value);
        }
        finally
        {
            DeleteDirectory(source);
            DeleteDirectory(target);
        }
    }

    [Fact]
    public async Task Migrate_moves_an_embedded_install_to_PostgreSQL_and_an_S3_bucket_that_a_cluster_node_serves()
    {
        var source = TempDirectory("wharf-migrate-src-");
        var target = TempDirectory("wharf-migrate-dst-");
        var connection = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
        var rgw = await RgwServer.GetAsync();
        var bucket = await rgw.CreateBucketAsync();
        var storage = WharfTestServer.S3Settings(rgw, bucket);
        var config = Path.Combine(target, "s3.json");
        try
        {
            var imageConfig = Encoding.UTF8.GetBytes("""{"os":"linux","architecture":"amd64"}""");
            byte[][] layers = [ServiceStack.Random(9 * 1024 * 1024), ServiceStack.Random(7000)];
            byte[] manifest;
            var embedded = await WharfTestServer.StartAsync(new Dictionary<string, string?>(), dataDirectory: source);
            try
            {
                using var client = embedded.CreateClient();
                var pusher = new OciPusher(client);
                foreach (var blob in layers.Prepend(imageConfig))
                {
                    await pusher.PushBlobMonolithicAsync(Repository, blob);
                }

                manifest = await pusher.PushManifestAsync(Repository, "v1", imageConfig, layers);
            }
            finally
            {
                await StopKeepingDataAsync(embedded);
            }

            await File.WriteAllTextAsync(config, WharfTestServer.SettingsFile(storage));
            var migrated = await MigrateAsync("--from", source, "--data-dir", target, "--config", config, "--metadata", "postgres", "--metadata-connection", connection, "--deep");

            Assert.True(migrated.ExitCode == 0, migrated.StandardOutput + migrated.StandardError);
            var copied = BlobLine().Match(migrated.StandardOutput);
            Assert.True(copied.Success, migrated.StandardOutput);
            Assert.Equal("0", copied.Groups["failed"].Value);

            // Every blob is one object in the bucket: its sealed copy, copied as it is (at an address derived from the key
            // scope, never at the plaintext's content address, and larger than the plaintext by the seal's headers and tags).
            using (var s3 = rgw.CreateClient())
            {
                var listed = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, Prefix = "blobs/" });
                Assert.Equal(layers.Length + 1, listed.S3Objects.Count);
                foreach (var blob in layers.Prepend(imageConfig))
                {
                    var hex = Digest.Sha256Of(blob).Hex;
                    Assert.DoesNotContain(listed.S3Objects, o => o.Key == $"blobs/sha256/{hex[..2]}/{hex}");
                }

                Assert.All(listed.S3Objects, o => Assert.True(o.Size > 0));
            }

            var settings = new Dictionary<string, string?>(storage) { ["Metadata:Backend"] = "Postgres", ["Metadata:ConnectionString"] = connection };
            var node = await WharfTestServer.StartAsync(settings, dataDirectory: target);
            try
            {
                using var client = node.CreateClient();
                var pusher = new OciPusher(client);
                Assert.Equal(manifest, await pusher.GetAsync($"/v2/{Repository}/manifests/v1"));
                foreach (var blob in layers.Prepend(imageConfig))
                {
                    Assert.Equal(blob, await pusher.GetAsync($"/v2/{Repository}/blobs/{Digest.Sha256Of(blob)}"));
                }
            }
            finally
            {
                await StopKeepingDataAsync(node);
            }
        }
        finally
        {
            DeleteDirectory(source);
            DeleteDirectory(target);
        }
    }

    [Fact]
    public async Task Migrate_reports_a_corrupt_source_blob_copies_no_table_and_resumes_once_it_is_repaired()
    {
        var target = TempDirectory("wharf-migrate-dst-");
        var connection = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync();
        await using var stack = await ServiceStack.CreateAsync(TimeSpan.FromHours(1));
        try
        {
            var config = Encoding.UTF8.GetBytes("""{"os":"linux"}""");
            byte[][] layers = [ServiceStack.Random(4000), ServiceStack.Random(6000)];
            await stack.PushImageAsync("team/app", "v1", config, layers);
            await stack.CloseAsync();
            var damaged = Directory.EnumerateFiles(stack.Directory, Digest.Sha256Of(layers[1]).Hex, SearchOption.AllDirectories).Single();
            var flipped = (byte[])layers[1].Clone();
            flipped[10] ^= 0xff;
            await File.WriteAllBytesAsync(damaged, flipped);
            string[] arguments = ["--from", stack.Directory, "--data-dir", target, "--metadata", "postgres", "--metadata-connection", connection];

            var refused = await MigrateAsync(arguments);

            Assert.Equal(1, refused.ExitCode);
            var line = Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"{Digest.Sha256Of(layers[1])}: the source's bytes (6000 bytes) hash to {Digest.Sha256Of(flipped)}", line, StringComparison.Ordinal);
            Assert.Contains("metadata not copied", refused.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(0L, await RepositoryRowsAsync(connection));

            await File.WriteAllBytesAsync(damaged, layers[1]);
            var resumed = await MigrateAsync([.. arguments, "--json"]);

            // With --json, stdout is one document and the human lines go to stderr.
            Assert.True(resumed.ExitCode == 0, resumed.StandardOutput + resumed.StandardError);
            using var report = System.Text.Json.JsonDocument.Parse(resumed.StandardOutput);
            var json = report.RootElement;
            Assert.Equal((1, 2, 0), (json.GetProperty("blobsCopied").GetInt32(), json.GetProperty("blobsAlreadyPresent").GetInt32(), json.GetProperty("blobsFailed").GetInt32()));
            Assert.Equal(6000, json.GetProperty("bytesCopied").GetInt64());
            Assert.True(json.GetProperty("metadataCopied").GetBoolean());
            Assert.True(json.GetProperty("rowsCopied").GetInt64() > 0);
            Assert.True(json.GetProperty("verified").GetBoolean());
            Assert.Equal(0, json.GetProperty("differences").GetInt32());
            var blobs = BlobLine().Match(resumed.StandardError);
            Assert.Equal("1", blobs.Groups["copied"].Value);
            Assert.Equal("2", blobs.Groups["present"].Value);
            Assert.Equal(1L, await RepositoryRowsAsync(connection));
        }
        finally
        {
            DeleteDirectory(target);
        }
    }

    [Fact]
    public async Task Migrate_without_a_source_database_fails_in_one_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "wharf-migrate-none-" + Guid.NewGuid().ToString("N"));

        var result = await MigrateAsync("--from", missing, "--metadata", "postgres", "--metadata-connection", "Host=127.0.0.1;Username=x;Database=y");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"wharf: there is no Wharf database at '{Path.Combine(missing, "wharf.db")}'; pass --from with the data directory of the embedded install (or --from-config with its settings)", result.StandardError.Trim());
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Migrate_to_an_unreachable_PostgreSQL_fails_in_one_line()
    {
        var source = await EmptySourceAsync();
        try
        {
            var port = Ports.Free();
            var result = await MigrateAsync("--from", source, "--data-dir", Path.Combine(source, "dst"), "--metadata", "postgres", "--metadata-connection", $"Host=127.0.0.1;Port={port};Username=wharf;Database=wharf");

            Assert.Equal(2, result.ExitCode);
            var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"wharf: cannot connect to PostgreSQL at 127.0.0.1:{port}", line, StringComparison.Ordinal);
        }
        finally
        {
            DeleteDirectory(source);
        }
    }

    [Fact]
    public async Task Migrate_to_SQLite_is_refused_in_one_line()
    {
        var source = await EmptySourceAsync();
        try
        {
            var result = await MigrateAsync("--from", source, "--data-dir", Path.Combine(source, "dst"));

            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith("wharf: the destination must be PostgreSQL", result.StandardError.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            DeleteDirectory(source);
        }
    }

    [GeneratedRegex(@"blobs: copied (?<copied>\d+) \(\d+ bytes\), (?<present>\d+) already in the destination, (?<failed>\d+) failed")]
    private static partial Regex BlobLine();

    private static Task<ProcessResult> MigrateAsync(params string[] args) =>
        WharfCommand.RunAsync(["migrate", .. args], TimeSpan.FromMinutes(3));

    private static async Task<long> RepositoryRowsAsync(string connection)
    {
        await using var database = new Npgsql.NpgsqlConnection(connection);
        await database.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM repositories", database);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static Task<ProcessResult> Ecr(Uri endpoint, Dictionary<string, string> credentials, params string[] args) =>
        AwsClients.CliAsync(endpoint, Region, credentials, ["ecr", .. args]);

    private static async Task<string> PolicyTextAsync(Uri endpoint, Dictionary<string, string> credentials, string command)
    {
        var output = (await Ecr(endpoint, credentials, command, "--repository-name", Repository)).EnsureSuccess().StandardOutput;
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty(command == "get-repository-policy" ? "policyText" : "lifecyclePolicyText").GetString()!;
    }

    /// <summary>The scan of v1 (status, description, completion time), once it is no longer in progress when <paramref name="finished"/>.</summary>
    private static async Task<string> ScanAsync(Uri endpoint, Dictionary<string, string> credentials, bool finished)
    {
        for (var attempt = 0; ; attempt++)
        {
            var output = (await Ecr(endpoint, credentials, "describe-image-scan-findings", "--repository-name", Repository, "--image-id", "imageTag=v1")).EnsureSuccess().StandardOutput;
            using var json = JsonDocument.Parse(output);
            var status = json.RootElement.GetProperty("imageScanStatus");
            var state = status.GetProperty("status").GetString();
            if (!finished || state != "IN_PROGRESS" || attempt == 60)
            {
                Assert.NotEqual("IN_PROGRESS", state);
                var completed = json.RootElement.TryGetProperty("imageScanFindings", out var findings) && findings.ValueKind == JsonValueKind.Object && findings.TryGetProperty("imageScanCompletedAt", out var at) ? at.ToString() : "";
                return $"{state} {(status.TryGetProperty("description", out var d) ? d.GetString() : "")} {completed}";
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static async Task<string> ImageTagsAsync(Uri endpoint, Dictionary<string, string> credentials)
    {
        var output = (await Ecr(endpoint, credentials, "describe-images", "--repository-name", Repository)).EnsureSuccess().StandardOutput;
        using var json = JsonDocument.Parse(output);
        var images = json.RootElement.GetProperty("imageDetails").EnumerateArray()
            .Select(i => $"{i.GetProperty("imageDigest").GetString()} {i.GetProperty("imageSizeInBytes").GetInt64()} {string.Join(",", i.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal))} {i.GetProperty("imagePushedAt")}");
        return string.Join("\n", images.Order(StringComparer.Ordinal));
    }

    /// <summary>Stops a server without the wrapper's dispose, which would delete its data directory.</summary>
    private static async Task StopKeepingDataAsync(WharfTestServer server)
    {
        await server.App.StopAsync();
        await server.App.DisposeAsync();
    }

    /// <summary>An embedded install's data directory holding only an empty, migrated database.</summary>
    private static async Task<string> EmptySourceAsync()
    {
        var source = TempDirectory("wharf-migrate-src-");
        await using (var store = new SqliteMetadataStore(Path.Combine(source, "wharf.db")))
        {
            await store.MigrateAsync(CancellationToken.None);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return source;
    }

    private static string TempDirectory(string prefix)
    {
        var directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static void DeleteDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
