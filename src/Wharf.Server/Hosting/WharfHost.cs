using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.Audit;
using Wharf.Server.ControlPlane;
using Wharf.Server.DataPlane;
using Wharf.Server.Identity;
using Wharf.Server.Jobs;
using Wharf.Server.PullThroughCache;
using Wharf.Server.Public;
using Wharf.Server.Replication;
using Wharf.Server.Scanning;
using Wharf.Server.Telemetry;
using Wharf.Server.Webhooks;
using Wharf.Server.WebConsole;

namespace Wharf.Server.Hosting;

/// <summary>The composition root: the only place that reads configuration and picks backends.</summary>
public static class WharfHost
{
    /// <summary>
    /// Builds the web application. <paramref name="configure"/> lets callers (the CLI's flags, tests)
    /// add configuration on top of appsettings.json, <paramref name="configFile"/> and <c>WHARF__*</c>
    /// environment variables.
    /// </summary>
    public static WebApplication CreateApp(string[] args, Action<IConfigurationBuilder>? configure = null, string? configFile = null)
    {
        var (builder, options) = CreateBuilder(args, configure, configFile);
        return Build(builder, options);
    }

    /// <summary>
    /// As <see cref="CreateApp(string[], Action{IConfigurationBuilder}?, string?)"/>, with
    /// <paramref name="services"/> applied after Wharf's own registrations, so that it can replace
    /// one (the identity work replaces <see cref="IAccessAuthorizer"/> this way).
    /// </summary>
    public static WebApplication CreateApp(string[] args, Action<IConfigurationBuilder>? configure, Action<IServiceCollection> services)
    {
        var (builder, options) = CreateBuilder(args, configure, configFile: null);
        return Build(builder, options, services);
    }

    /// <summary>
    /// The first half of <see cref="CreateApp(string[], Action{IConfigurationBuilder}?, string?)"/>: the configuration sources and the options bound from
    /// them, so that they can be validated before <see cref="Build"/> constructs any backend. Throws
    /// <see cref="InvalidOperationException"/> when a setting does not convert to its type.
    /// </summary>
    internal static (WebApplicationBuilder Builder, WharfOptions Options) CreateBuilder(string[] args, Action<IConfigurationBuilder>? configure, string? configFile)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // Only WHARF__* variables configure Wharf: unprefixed ones such as PORT or ADDRESS, set for
        // other programs, must not move the listener.
        foreach (var unprefixed in builder.Configuration.Sources.OfType<EnvironmentVariablesConfigurationSource>().Where(s => string.IsNullOrEmpty(s.Prefix)).ToList())
        {
            builder.Configuration.Sources.Remove(unprefixed);
        }

        // The standard OTEL_* variables are OpenTelemetry's, read by its exporters from configuration
        // (docs/operations.md, "Tracing and logs"); they configure nothing of Wharf's own.
        builder.Configuration.AddInMemoryCollection(
            Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Where(v => v.Key is string key && key.StartsWith("OTEL_", StringComparison.Ordinal))
                .Select(v => new KeyValuePair<string, string?>((string)v.Key, v.Value as string)));

        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }

        builder.Configuration.AddEnvironmentVariables(prefix: "WHARF__");
        configure?.Invoke(builder.Configuration);
        return (builder, builder.Configuration.Get<WharfOptions>() ?? new WharfOptions());
    }

    /// <summary>The second half of <see cref="CreateApp(string[], Action{IConfigurationBuilder}?, string?)"/>: services, backends, endpoints.</summary>
    internal static WebApplication Build(WebApplicationBuilder builder, WharfOptions options, Action<IServiceCollection>? services = null)
    {
        builder.Services.AddOptions<WharfOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WharfOptions>>(new WharfOptionsValidator());

        var address = WharfOptionsValidator.ParseAddress(options.Address) ?? System.Net.IPAddress.Loopback;
        var publicListener = new PublicListener(options.Public, address);
        builder.Services.AddSingleton(publicListener);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // set per route: blobs are unbounded, manifests 4 MiB
            // Made here, when Kestrel starts, so that a certificate that does not load fails the start.
            var certificate = kestrel.ApplicationServices.GetService<ServerCertificate>();
            var sendfile = kestrel.ApplicationServices.GetRequiredService<SendfileStats>();
            kestrel.Listen(address, options.Port, listen => Configure(listen, certificate, sendfile));
            publicListener.Listen(kestrel, listen => Configure(listen, certificate, sendfile)); // Public:Port, on the same address; its connections are marked as the public address's
        });
        // Kestrel's socket transport receives into one memory-pool block per call: with 64 KiB blocks instead of
        // 4 KiB a 512 MiB push is 8,192 receives, not 131,072 (bench/RESULTS.md, "Pushes"). An idle connection
        // waits for data before it takes a block, so 1,000 idle keep-alive connections hold none.
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddSingleton<SendfileStats>();
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = true);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddIdentity(options.Auth);
        builder.Services.AddBackends();
        builder.Services.AddRequestLimits();
        builder.Services.AddIdleTrim();
        builder.Services.AddDataPlane();
        builder.Services.AddControlPlane();
        builder.Services.AddQueryApi();
        builder.Services.AddUploadExpiry();
        builder.Services.AddLifecycle();
        builder.Services.AddScanning(options.Scanning);
        builder.Services.AddGarbageCollection(options.Gc);
        builder.Services.AddEventPruning();
        builder.Services.AddEncryptionMigration(options);
        builder.Services.AddReplication();
        builder.Services.AddJobs();
        builder.Services.AddRemoteReplication();
        builder.Services.AddUpstreamRegistries();
        builder.Services.AddPublicRegistries();
        builder.Services.AddConsole(options);
        builder.Services.AddTls(options);
        builder.Services.AddTelemetry(options);
        builder.Services.AddAudit(options);
        builder.Services.AddWebhooks(options);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseRequestRecords(); // first: every request gets its id and record, and its observers hear of it
        app.MapMetrics();
        app.MapPublicAddress(); // first: nothing on the public address reaches the private endpoints
        app.MapHealth();
        app.MapDataPlane();
        app.MapControlPlane();
        app.MapQueryApi();
        app.MapConsole();
        return app;
    }

    /// <summary>
    /// A listener's transport: TLS with <paramref name="certificate"/>; without one, plaintext blobs go out with
    /// sendfile (<see cref="SendfileConnection"/>).
    /// </summary>
    private static void Configure(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen, ServerCertificate? certificate, SendfileStats sendfile)
    {
        if (certificate is null)
        {
            SendfileConnection.Use(listen, sendfile);
            return;
        }

        TlsSetup.Configure(listen, certificate);
    }

    /// <summary>Unmaps the executable's start-only pages (<see cref="DehydratedData"/>), applies migrations, then starts listening.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wharf");
        var (start, length) = DehydratedData.Release();
        if (length > 0)
        {
            logger.StartPagesReleased(length / 1048576.0, start, length);
        }

        var store = app.Services.GetRequiredService<IMetadataStore>();
        await store.MigrateAsync(cancellationToken);
        var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
        if (options.Auth == AuthMode.Open)
        {
            logger.OpenModeWarning();
        }
        else
        {
            await app.Services.GetRequiredService<IdentityBootstrap>().RunAsync(Console.Out, cancellationToken);
        }

        await app.StartAsync(cancellationToken);
        if (logger.IsEnabled(LogLevel.Information))
        {
            var publicListener = app.Services.GetRequiredService<PublicListener>();
            var publicPort = publicListener.EndPoint?.Port;
            var metricsPort = app.Services.GetRequiredService<MetricsListener>().EndPoint?.Port;
            var main = app.Urls.Where(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || (uri.Port != publicPort && uri.Port != metricsPort));
            logger.Listening(string.Join(", ", main), store.Backend, BackendFactory.DescribeBlobStore(options), WharfVersion.Describe());
            if (publicListener.EndPoint is { } endPoint)
            {
                logger.PublicListening($"{(options.Tls.Enabled ? "https" : "http")}://{endPoint}", publicListener.Authority);
            }
        }

        if (app.Services.GetService<ServerCertificate>() is { SelfSigned: not null } certificate)
        {
            var publicListenerForTrust = app.Services.GetRequiredService<PublicListener>();
            List<string> authorities = [.. app.Urls
                .Select(u => Uri.TryCreate(u.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri.Authority : null)
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)];
            if (publicListenerForTrust.EndPoint is not null && !authorities.Contains(publicListenerForTrust.Authority))
            {
                authorities.Add(publicListenerForTrust.Authority);
            }

            TlsSetup.WriteTrustInstructions(Console.Out, certificate, authorities);
        }
    }
}
