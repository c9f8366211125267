using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Repositories;
using static Wharf.Server.Tests.PullThroughCache.UpstreamTesting;

namespace Wharf.Server.Tests.PullThroughCache;

/// <summary>
/// Upstreams that misbehave, served by a small Kestrel app: rate limits and outages map to TooManyRequests and
/// Unavailable; endless manifests, token answers and error bodies are cut off after a bound (the bytes the server
/// managed to send are counted before each write); a manifest that is not the one asked for is refused; a silent
/// upstream times out; a blob's redirect to another host gets no credentials.
/// </summary>
public sealed class HostileUpstreamTests
{
    private const string Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""";

    [Theory]
    [InlineData(429, UpstreamFailure.TooManyRequests)]
    [InlineData(503, UpstreamFailure.Unavailable)]
    [InlineData(500, UpstreamFailure.Unavailable)]
    [InlineData(403, UpstreamFailure.AccessDenied)]
    public async Task An_upstream_status_maps_to_its_failure(int status, UpstreamFailure expected)
    {
        await using var hostile = await HostileServer.StartAsync(async (_, context) =>
        {
            context.Response.StatusCode = context.Request.Path == "/v2/" ? 200 : status;
            await context.Response.WriteAsync("""{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}""");
        });
        var upstream = await ConnectAsync(hostile);

        Assert.Equal(expected, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct))).Failure);
        Assert.Equal(expected, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.HeadManifestAsync("library/nginx", "latest", Ct))).Failure);
        Assert.Equal(expected, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.OpenBlobAsync("library/nginx", Digest.Sha256Of("x"u8), Ct))).Failure);
    }

    [Fact]
    public async Task An_endless_manifest_is_refused_after_4_MiB()
    {
        await using var hostile = await HostileServer.StartAsync((self, context) => context.Request.Path == "/v2/" ? Task.CompletedTask : self.EndlessAsync(context, 200, "application/vnd.oci.image.manifest.v1+json"));
        var upstream = await ConnectAsync(hostile);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct));
        Assert.Equal(UpstreamFailure.Unavailable, failure.Failure);
        Assert.Contains($"more than {DataPlaneSettings.MaxManifestBytes} bytes", failure.Message, StringComparison.Ordinal);
        Assert.InRange(hostile.BytesSent, DataPlaneSettings.MaxManifestBytes, 64L << 20);
    }

    [Fact]
    public async Task An_endless_token_answer_is_refused_after_a_bound()
    {
        await using var hostile = await HostileServer.StartAsync((self, context) =>
        {
            if (context.Request.Path == "/v2/" || context.Request.Path.StartsWithSegments("/v2"))
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{context.Request.Host}/token\",service=\"hostile\"";
                return Task.CompletedTask;
            }

            return self.EndlessAsync(context, 200, "application/json", "{\"token\":\"");
        });
        var upstream = await ConnectAsync(hostile);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct));
        Assert.Equal(UpstreamFailure.Unavailable, failure.Failure);
        Assert.Contains("token service", failure.Message, StringComparison.Ordinal);
        Assert.Contains("more than", failure.Message, StringComparison.Ordinal);
        Assert.True(hostile.BytesSent is > 0 and <= 64L << 20, $"{hostile.BytesSent} bytes in {hostile.Answers} answers");
    }

    [Fact]
    public async Task An_endless_error_body_is_read_to_a_bound()
    {
        await using var hostile = await HostileServer.StartAsync((self, context) => context.Request.Path == "/v2/" ? Task.CompletedTask : self.EndlessAsync(context, 502, "text/plain"));
        var upstream = await ConnectAsync(hostile);

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct));
        Assert.Equal(UpstreamFailure.Unavailable, failure.Failure);
        Assert.Contains("502", failure.Message, StringComparison.Ordinal);
        Assert.True(failure.Message.Length < 1000, "the message carries a few hundred characters of the body at most");
        Assert.InRange(hostile.BytesSent, 1, 64L << 20);
    }

    [Fact]
    public async Task A_manifest_other_than_the_one_asked_for_is_refused()
    {
        var served = Encoding.UTF8.GetBytes(Manifest);
        var asked = Digest.Sha256Of("another manifest"u8);
        await using var hostile = await HostileServer.StartAsync(async (_, context) =>
        {
            if (context.Request.Path != "/v2/")
            {
                context.Response.ContentType = "application/vnd.oci.image.manifest.v1+json";

                // By tag it declares a digest its bytes do not have.
                context.Response.Headers["Docker-Content-Digest"] = context.Request.Path.Value!.EndsWith("/latest", StringComparison.Ordinal) ? asked.ToString() : Digest.Sha256Of(served).ToString();
                await context.Response.Body.WriteAsync(served);
            }
        });
        var upstream = await ConnectAsync(hostile);

        var byDigest = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", asked.ToString(), Ct));
        Assert.Equal(UpstreamFailure.Unavailable, byDigest.Failure);
        Assert.Contains("different manifest", byDigest.Message, StringComparison.Ordinal);
        Assert.Equal(UpstreamFailure.Unavailable, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct))).Failure);
        Assert.Equal(UpstreamFailure.Unavailable, (await Assert.ThrowsAsync<UpstreamException>(() => upstream.HeadManifestAsync("library/nginx", asked.ToString(), Ct))).Failure);

        // The same bytes by a tag that declares their own digest are fine.
        var good = await upstream.GetManifestAsync("library/nginx", "stable", Ct);
        Assert.Equal(Digest.Sha256Of(served), good.Digest);
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", good.MediaType);
    }

    [Fact]
    public async Task An_upstream_that_does_not_answer_in_time_is_Unavailable()
    {
        await using var hostile = await HostileServer.StartAsync(async (_, context) =>
        {
            if (context.Request.Path != "/v2/")
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
        });
        var upstream = await ConnectAsync(hostile, TimeSpan.FromSeconds(1));

        var started = DateTime.UtcNow;
        var failure = await Assert.ThrowsAsync<UpstreamException>(() => upstream.GetManifestAsync("library/nginx", "latest", Ct));
        Assert.Equal(UpstreamFailure.Unavailable, failure.Failure);
        Assert.Contains("did not answer in time", failure.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_blob_redirect_to_another_host_is_followed_without_the_upstream_s_credentials()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('b', 100_000));
        var digest = Digest.Sha256Of(bytes);
        string? storeAuthorization = "unset";
        await using var store = await HostileServer.StartAsync(async (_, context) =>
        {
            storeAuthorization = context.Request.Headers.Authorization.ToString();
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes);
        });
        string? upstreamAuthorization = null;
        await using var hostile = await HostileServer.StartAsync((_, context) =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            if (authorization.Length == 0)
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"hostile\"";
                return Task.CompletedTask;
            }

            upstreamAuthorization = authorization;
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"{store.Endpoint}blobs/{digest}?signature=abc";
            return Task.CompletedTask;
        });
        await using var server = await StartCacheAsync();
        var secret = await CreateSecretAsync(server, "redirect", Login("robot", "s3cr3t"));
        var upstream = await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(hostile.Endpoint.ToString(), secret), Ct);

        await using var blob = await upstream.OpenBlobAsync("library/nginx", digest, Ct);
        Assert.Equal(bytes.Length, blob.Length);
        Assert.Equal((digest, (long)bytes.Length), await ReadAllAsync(blob));
        Assert.StartsWith("Basic ", upstreamAuthorization, StringComparison.Ordinal);
        Assert.Equal(string.Empty, storeAuthorization);
    }

    private static async Task<IUpstreamRegistry> ConnectAsync(HostileServer hostile, TimeSpan? timeout = null)
    {
        // The cache server lives as long as the test's upstream object needs it: its HTTP client is process-wide.
        var server = await StartCacheAsync(timeout: timeout);
        hostile.Owned.Add(server);
        return await server.GetService<IUpstreamRegistries>().ConnectAsync(Registry, Rule(hostile.Endpoint.ToString()), Ct);
    }

    /// <summary>A Kestrel app on 127.0.0.1:0 answering every request with the test's handler; counts the bytes its endless answers sent.</summary>
    private sealed class HostileServer : IAsyncDisposable
    {
        private readonly WebApplication app;
        private long bytesSent;

        private HostileServer(WebApplication app) => this.app = app;

        public Uri Endpoint { get; private set; } = null!;

        public long BytesSent => Interlocked.Read(ref bytesSent);

        public int Answers;

        public List<IAsyncDisposable> Owned { get; } = [];

        public static async Task<HostileServer> StartAsync(Func<HostileServer, HttpContext, Task> handler)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new HostileServer(app);
            app.Run(context => handler(server, context));
            await app.StartAsync();
            server.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            return server;
        }

        /// <summary>Answers <paramref name="status"/> with <paramref name="start"/> then bytes without end (chunked), until the client goes away.</summary>
        public async Task EndlessAsync(HttpContext context, int status, string contentType, string start = "")
        {
            Interlocked.Increment(ref Answers);
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            var chunk = Encoding.UTF8.GetBytes(new string('a', 64 * 1024));
            try
            {
                Interlocked.Add(ref bytesSent, start.Length);
                await context.Response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes(start), context.RequestAborted);

                // Bounded only so that a broken client cannot keep the test running: 1 GiB.
                for (var i = 0; i < 16 * 1024 && !context.RequestAborted.IsCancellationRequested; i++)
                {
                    // Counted before the write: a client that stops reading mid-chunk leaves this write unfinished.
                    Interlocked.Add(ref bytesSent, chunk.Length);

                    // The pipe says when the client has gone (Kestrel notices before RequestAborted fires, and
                    // Response.Body's writes would go on succeeding into nothing, counted as sent).
                    var written = await context.Response.BodyWriter.WriteAsync(chunk, context.RequestAborted);
                    if (written.IsCompleted || written.IsCanceled)
                    {
                        break;
                    }

                    // Paced (about 64 MB/s): once the client has gone, Kestrel may take writes into nothing for a
                    // while before it says so; unpaced, that while counts hundreds of megabytes never sent.
                    await Task.Delay(1, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client went away: what these tests want.
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var owned in Owned)
            {
                await owned.DisposeAsync();
            }

            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
