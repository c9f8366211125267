using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Npgsql;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

public sealed class HealthAndShutdownTests
{
    [Fact]
    public async Task Health_is_ok_then_unavailable_when_the_metadata_store_goes_away()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Metadata:Backend"] = "Postgres",
            ["Metadata:ConnectionString"] = connectionString,
        });
        using var client = server.CreateClient();

        var ok = await client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("\"postgres\"", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using (var admin = new NpgsqlConnection(cluster.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        var down = await client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("unreachable", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Readiness_fails_with_a_reason_when_the_SQLite_file_is_gone_while_liveness_stays_ok()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var client = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        Directory.Delete(server.DataDirectory, recursive: true);

        var down = await client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("\"reason\":\"the sqlite metadata store", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task SIGTERM_lets_an_in_flight_upload_finish_before_exit()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-shutdown-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await WharfProcess.StartAsync(dataDirectory);
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var blob = RandomNumberGenerator.GetBytes(4 << 20);
            var digest = OciPusher.Sha256(blob);
            using var started = await client.PostAsync(new Uri("/v2/shutdown/app/blobs/uploads/", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var location = started.Headers.Location!.ToString();
            var uploadId = location[(location.LastIndexOf('/') + 1)..];
            var staged = Directory.EnumerateDirectories(dataDirectory, "uploads", SearchOption.AllDirectories).Single();

            var release = new TaskCompletionSource();
            using var content = new SlowContent(blob, new TaskCompletionSource(), release.Task);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = blob.Length;
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
            var upload = client.SendAsync(patch);

            // In flight for certain: the server is streaming the first half into the staging area.
            var stagedFile = Path.Combine(staged, uploadId);
            for (var i = 0; i < 600 && !(File.Exists(stagedFile) && new FileInfo(stagedFile).Length > 0); i++)
            {
                await Task.Delay(50);
            }

            Assert.True(new FileInfo(stagedFile).Length > 0, "the server never started receiving the body");
            var exit = server.TerminateAsync(TimeSpan.FromSeconds(60));

            // Longer than System.CommandLine's default 2 s grace after SIGTERM: the host's ShutdownTimeout rules.
            await Task.Delay(3000);
            Assert.False(exit.IsCompleted, "the server exited with a request in flight");
            release.SetResult();

            using var response = await upload;
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(0, await exit);

            await using var again = await WharfProcess.StartAsync(dataDirectory);
            using var check = new HttpClient { BaseAddress = again.BaseAddress };
            using var done = await check.PutAsync(new Uri($"{location}?digest={digest}", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
            Assert.Equal(blob, await check.GetByteArrayAsync(new Uri($"/v2/shutdown/app/blobs/{digest}", UriKind.Relative)));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    /// <summary>Sends half the body, waits for a signal, then sends the rest.</summary>
    private sealed class SlowContent(byte[] body, TaskCompletionSource firstHalfSent, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            firstHalfSent.TrySetResult();
            await release;
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
