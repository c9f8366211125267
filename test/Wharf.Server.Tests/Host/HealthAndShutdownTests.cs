using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Npgsql;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Host;

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
            var release = new TaskCompletionSource();
            var firstHalfSent = new TaskCompletionSource();

            using var content = new SlowContent(blob, firstHalfSent, release.Task);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = blob.Length;
            var upload = client.PostAsync(new Uri($"/v2/shutdown/app/blobs/uploads/?digest={digest}", UriKind.Relative), content);

            await firstHalfSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var exit = server.TerminateAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(500);
            Assert.False(exit.IsCompleted, "the server exited with a request in flight");
            release.SetResult();

            var response = await upload;
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(0, await exit);

            await using var again = await WharfProcess.StartAsync(dataDirectory);
            using var check = new HttpClient { BaseAddress = again.BaseAddress };
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
