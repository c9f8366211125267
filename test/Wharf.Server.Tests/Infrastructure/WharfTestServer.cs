using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Server.Hosting;
using Wharf.Testing;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// Real Kestrel on 127.0.0.1 port 0 with a throwaway data directory (YARP's TestEnvironment is the
/// model). Settings may be overridden per test, e.g. <c>["Registry:CreateOnPush"] = "false"</c>.
/// </summary>
public sealed class WharfTestServer : IAsyncDisposable
{
    private WharfTestServer(WebApplication app, string dataDirectory, Uri baseAddress, Uri? publicBaseAddress, IReadOnlyList<string> storeArguments)
    {
        App = app;
        DataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        publicAddress = publicBaseAddress;
        StoreArguments = storeArguments;
    }

    private readonly Uri? publicAddress;

    public WebApplication App { get; }

    public string DataDirectory { get; }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c> (<c>https://</c> when started with <c>Tls:*</c> settings).</summary>
    public Uri BaseAddress { get; }

    /// <summary><c>127.0.0.1:&lt;port&gt;</c>, the registry host for clients such as skopeo.</summary>
    public string HostAndPort => $"{BaseAddress.Host}:{BaseAddress.Port}";

    /// <summary>
    /// The public address's listener (<c>Public:Port</c>, 0 in tests): <c>http://127.0.0.1:&lt;port&gt;/</c>.
    /// Throws when the server was started with <c>Public:Enabled=false</c>.
    /// </summary>
    public Uri PublicBaseAddress => publicAddress ?? throw new InvalidOperationException("this server has no public address (Public:Enabled is false)");

    /// <summary><c>127.0.0.1:&lt;port&gt;</c> of the public listener, as in <c>&lt;host&gt;/&lt;alias&gt;/&lt;repository&gt;</c>.</summary>
    public string PublicHostAndPort => $"{PublicBaseAddress.Host}:{PublicBaseAddress.Port}";

    /// <summary>
    /// The flags that point a <c>wharf</c> command (e.g. <c>wharf admin</c>) at this server's data and
    /// metadata store: <c>--data-dir</c>, and on PostgreSQL <c>--metadata</c> and <c>--metadata-connection</c>;
    /// on S3 <c>--config</c> with a file of the server's <c>Storage:*</c> settings.
    /// </summary>
    public IReadOnlyList<string> StoreArguments { get; }

    public T GetService<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<WharfTestServer> StartAsync(IDictionary<string, string?>? settings = null, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    {
        var dir = dataDirectory ?? Path.Combine(Path.GetTempPath(), "wharf-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var config = new Dictionary<string, string?>
        {
            ["Address"] = "127.0.0.1",
            ["Port"] = "0",
            ["DataDirectory"] = dir,

            // The public address listens beside the main port; a free port, so that servers never collide on 5001.
            ["Public:Port"] = "0",

            // Most tests exercise the registry, not authentication: they opt into open mode (IAM is the default).
            ["Auth"] = "Open",

            // The idle trim's full, compacting collection is process-wide: a test server left idle would pause every other
            // test's server in this process. Its own tests (IdleTrimTests) turn it on.
            ["IdleTrimAfter"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var app = WharfHost.CreateApp([], builder => builder.AddInMemoryCollection(config), services ?? (_ => { }));
        await WharfHost.StartAsync(app, CancellationToken.None);
        var publicEndPoint = app.Services.GetRequiredService<global::Wharf.Server.Public.PublicListener>().EndPoint;
        var metricsPort = app.Services.GetRequiredService<global::Wharf.Server.Telemetry.MetricsListener>().EndPoint?.Port;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)).Port is var port && port != publicEndPoint?.Port && port != metricsPort);
        var publicHost = publicEndPoint?.Address switch
        {
            null => null,
            var any when any.Equals(System.Net.IPAddress.Any) => "127.0.0.1",
            var any when any.Equals(System.Net.IPAddress.IPv6Any) => "[::1]",
            { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 => $"[{v6}]",
            var v4 => v4.ToString(),
        };
        // Kestrel names the scheme: https when the server was started with Tls:* settings.
        var scheme = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)).Scheme;
        var publicBase = publicEndPoint is null ? null : new Uri($"{scheme}://{publicHost}:{publicEndPoint.Port}/");
        List<string> storeArguments = ["--data-dir", dir];
        if (config.TryGetValue("Metadata:Backend", out var backend) && backend is not null)
        {
            storeArguments.AddRange(["--metadata", backend, "--metadata-connection", config["Metadata:ConnectionString"]!]);
        }

        if (config.Keys.Any(k => k.StartsWith("Storage:", StringComparison.Ordinal)))
        {
            // The storage settings have no flags: commands read them from a settings file, as an operator's would.
            var storage = Path.Combine(dir, "storage-settings.json");
            await File.WriteAllTextAsync(storage, SettingsFile(config.Where(c => c.Key.StartsWith("Storage:", StringComparison.Ordinal))));
            storeArguments.AddRange(["--config", storage]);
        }

        return new WharfTestServer(app, dir, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"), publicBase, storeArguments);
    }

    /// <summary>The same, on a fresh database of the run's throwaway PostgreSQL cluster.</summary>
    public static async Task<WharfTestServer> StartOnPostgresAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var cluster = await Wharf.Testing.PostgresCluster.GetAsync();
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Metadata:Backend"] = "Postgres",
            ["Metadata:ConnectionString"] = await cluster.CreateDatabaseAsync(),
        };
        return await StartAsync(all, services: services);
    }

    /// <summary>On PostgreSQL or on the default SQLite, for tests that run on both metadata stores.</summary>
    public static Task<WharfTestServer> StartAsync(bool postgres, IDictionary<string, string?> settings, Action<IServiceCollection>? services = null) =>
        postgres ? StartOnPostgresAsync(settings, services) : StartAsync(settings, services: services);

    /// <summary>
    /// The same with blobs in a fresh bucket of <paramref name="rgw"/> (the run's shared RGW when null),
    /// on PostgreSQL when <paramref name="postgres"/>; <see cref="S3Bucket"/> names the bucket.
    /// </summary>
    public static async Task<WharfTestServer> StartOnS3Async(IDictionary<string, string?>? settings = null, bool postgres = false, RgwServer? rgw = null, Action<IServiceCollection>? services = null)
    {
        rgw ??= await RgwServer.GetAsync();
        var bucket = await rgw.CreateBucketAsync();
        var all = S3Settings(rgw, bucket);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var server = await StartAsync(postgres, all, services);
        server.S3Bucket = bucket;
        return server;
    }

    /// <summary>The <c>Storage:*</c> settings of the S3 store on <paramref name="bucket"/> of <paramref name="rgw"/>.</summary>
    public static Dictionary<string, string?> S3Settings(RgwServer rgw, string bucket)
    {
        var options = rgw.OptionsFor(bucket);
        return new Dictionary<string, string?>
        {
            ["Storage:Backend"] = "S3",
            ["Storage:S3:Bucket"] = options.Bucket,
            ["Storage:S3:Endpoint"] = options.Endpoint,
            ["Storage:S3:Region"] = options.Region,
            ["Storage:S3:ForcePathStyle"] = options.ForcePathStyle ? "true" : "false",
            ["Storage:S3:AccessKeyId"] = options.AccessKeyId,
            ["Storage:S3:SecretAccessKey"] = options.SecretAccessKey,
            ["Storage:S3:Checksums"] = options.Checksums.ToString(),
        };
    }

    /// <summary>Flat <c>A:B:C</c> settings as the nested JSON of a <c>--config</c> file.</summary>
    public static string SettingsFile(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var parts = key.Split(':');
            var node = root;
            foreach (var part in parts[..^1])
            {
                node = node[part] as JsonObject ?? (JsonObject)(node[part] = new JsonObject());
            }

            node[parts[^1]] = value;
        }

        return root.ToJsonString();
    }

    /// <summary>The bucket the blobs are in, when the server was started with <see cref="StartOnS3Async"/>.</summary>
    public string? S3Bucket { get; private set; }

    /// <summary>
    /// Another node on this server's PostgreSQL database, with a data directory of its own (as a node on
    /// another machine); <paramref name="settings"/> are its own, as each node of a cluster has its settings.
    /// </summary>
    public Task<WharfTestServer> StartPeerAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null) =>
        StartAsync(
            new Dictionary<string, string?>(settings)
            {
                ["Metadata:Backend"] = "Postgres",
                ["Metadata:ConnectionString"] = App.Configuration["Metadata:ConnectionString"]
                    ?? throw new InvalidOperationException("a peer needs a server on PostgreSQL (StartOnPostgresAsync)"),
            },
            services: services);

    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    /// <summary>A client of the public address's listener.</summary>
    public HttpClient CreatePublicClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = PublicBaseAddress };

    /// <summary>
    /// Sends a request that declares <paramref name="declaredLength"/> body bytes but sends only
    /// <paramref name="sent"/> and closes its side: a client gone mid-body. Returns the status line, or
    /// null when the server dropped the connection without answering.
    /// </summary>
    public async Task<string?> SendTruncatedAsync(string method, string target, long declaredLength, byte[] sent)
    {
        var ct = TestContext.Current.CancellationToken;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(BaseAddress.Host, BaseAddress.Port, ct);
        var stream = tcp.GetStream();
        var head = $"{method} {target} HTTP/1.1\r\nHost: {HostAndPort}\r\nContent-Type: application/octet-stream\r\nContent-Length: {declaredLength}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), ct);
        await stream.WriteAsync(sent, ct);
        await stream.FlushAsync(ct);
        tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        using var reader = new StreamReader(stream);
        try
        {
            return await reader.ReadLineAsync(ct);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
