using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// A destination that answers without end: a token service and an ECR endpoint whose answers are chunked
/// (no Content-Length) and never stop. The copy is refused after a bounded read, not buffered without limit.
/// </summary>
public sealed class HostileDestinationTests
{
    private const string Region = "eu-hostile-1";
    private static readonly RepositoryKey Source = new(new RegistryKey(AccountId.Parse("123456789012"), "us-east-1"), RepositoryName.Parse("team/app"));

    [Theory]
    [InlineData("oci", "--username")]
    [InlineData("wharf", "--access-key-id")]
    public async Task An_endless_answer_is_read_to_a_bound_and_refused(string kind, string identityFlag)
    {
        await using var hostile = await EndlessServer.StartAsync();
        var image = await OciLayout.WriteImageAsync(Path.Combine(Path.GetTempPath(), "wharf-hostile-" + Guid.NewGuid().ToString("N")), "v1", [4096], 970, TestContext.Current.CancellationToken);
        var settings = RemoteRegions.Settings(Region, hostile.Endpoint, kind);
        await using var server = await WharfTestServer.StartAsync(settings);
        (await RemoteRegions.SetCredentialsAsync(server.StoreArguments, settings, Region, identityFlag, kind == "oci" ? "robot" : "AKIAHOSTILEHOSTILE00", "secret")).EnsureSuccess();
        var destination = new ReplicationDestination(Region, "123456789012");
        var target = server.App.Services.GetRequiredService<IReplicationSites>().Find(destination)!;

        var failure = await Assert.ThrowsAsync<ReplicationException>(() => target.ReplicateAsync(
            new ReplicationItem(Source, Digest.Parse(image.Manifest.Digest), ["v1"], destination), new OciLayoutSource(image.Directory), TestContext.Current.CancellationToken));

        Assert.Equal(ReplicationFailureCodes.DestinationRefused, failure.FailureCode);
        Assert.False(failure.Retryable);
        Assert.Contains("more than", failure.Message, StringComparison.Ordinal);

        // The answer was cut off after the bound: far less than the endless server would have sent.
        Assert.InRange(hostile.BytesSent, 1, 64L << 20);
    }

    /// <summary>
    /// <c>/v2/</c> asks for a bearer token from its own <c>/token</c>; <c>/token</c> and <c>POST /</c> (the ECR
    /// API) answer 200 with a JSON string that never ends, until the client goes away.
    /// </summary>
    private sealed class EndlessServer : IAsyncDisposable
    {
        private readonly WebApplication app;
        private long bytesSent;

        private EndlessServer(WebApplication app) => this.app = app;

        public Uri Endpoint { get; private set; } = null!;

        public long BytesSent => Interlocked.Read(ref bytesSent);

        public static async Task<EndlessServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new EndlessServer(app);
            app.MapGet("/v2/", (HttpContext context) =>
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{server.Endpoint}token\",service=\"hostile\"";
                return Task.CompletedTask;
            });
            app.MapGet("/token", server.EndlessAsync);
            app.MapPost("/", server.EndlessAsync);
            await app.StartAsync();
            server.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            return server;
        }

        private async Task EndlessAsync(HttpContext context)
        {
            context.Response.ContentType = "application/json";
            var start = Encoding.UTF8.GetBytes("{\"token\":\"");
            await context.Response.Body.WriteAsync(start, context.RequestAborted);
            var chunk = Encoding.UTF8.GetBytes(new string('a', 64 * 1024));
            try
            {
                // Bounded only so that a broken client cannot keep the test running: 1 GiB.
                for (var i = 0; i < 16 * 1024 && !context.RequestAborted.IsCancellationRequested; i++)
                {
                    // Counted before the write: a client that stops reading mid-chunk leaves this write unfinished.
                    Interlocked.Add(ref bytesSent, chunk.Length);
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);

                    // Paced (about 64 MB/s): once the client has gone, Kestrel may take writes into nothing for a
                    // while before it says so; unpaced, that while counts hundreds of megabytes never sent.
                    await Task.Delay(1, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client went away: what this test wants.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
