using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Core.Storage;
using Wharf.Core.Services;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Registry;
using Wharf.Server.ControlPlane;
using Wharf.Server.DataPlane;
using Wharf.Server.Identity;
using Wharf.Server.Jobs;

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

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // set per route: blobs are unbounded, manifests 4 MiB
            kestrel.Listen(WharfOptionsValidator.ParseAddress(options.Address) ?? System.Net.IPAddress.Loopback, options.Port);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);

        builder.Services.AddSingleton(TimeProvider.System);
        // Resolved on first use: in open mode only the IAM API needs it.
        builder.Services.AddSingleton(sp => MasterKey.LoadOrCreate(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        if (options.Auth == AuthMode.Iam)
        {
            builder.Services.AddSingleton<IAccessAuthorizer, PolicyAuthorizer>();
            builder.Services.AddSingleton<IApiIdentityResolver, SigV4ApiIdentity>();
            builder.Services.AddSingleton<IRequestIdentityResolver, TokenRequestIdentity>();
            builder.Services.AddSingleton<IdentityBootstrap>();
        }
        else
        {
            builder.Services.AddSingleton<IAccessAuthorizer, OpenAccessAuthorizer>();
        }

        builder.Services.AddSingleton<IBlobStore>(sp => BackendFactory.CreateBlobStore(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        builder.Services.AddSingleton<IMetadataStore>(sp => BackendFactory.CreateMetadataStore(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        builder.Services.AddSingleton<RequestLimits>();
        builder.Services.AddSingleton<UploadSessionLimits>();
        builder.Services.AddDataPlane();
        builder.Services.AddControlPlane();
        builder.Services.AddHostedService<PullTimeFlusher>();
        builder.Services.AddSingleton(sp => new GarbageCollector(
            sp.GetRequiredService<IMetadataStore>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<TimeProvider>(), options.Gc.GraceWindow));
        builder.Services.AddSingleton<UploadJanitor>();
        builder.Services.AddSingleton<StoreChecker>();
        builder.Services.AddSingleton<IBackgroundJob, UploadExpiryJob>();
        builder.Services.AddSingleton<IBackgroundJob, LifecycleJob>();
        builder.Services.AddSingleton(sp => new ImageScanner(
            sp.GetRequiredService<IMetadataStore>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<TimeProvider>(), LayerLimits.Default));
        builder.Services.AddSingleton<ScanCoordinator>();
        builder.Services.AddSingleton<IBackgroundJob, ScanJob>();
        builder.Services.AddSingleton<IBackgroundJob, EventPruneJob>();
        if (options.Scanning.DatabaseUrls.Count > 0)
        {
            builder.Services.AddHttpClient();
            builder.Services.AddSingleton<VulnerabilityDownloader>();
            builder.Services.AddSingleton<IBackgroundJob, VulnerabilityDownloadJob>();
        }
        if (options.Gc.Enabled)
        {
            builder.Services.AddSingleton<IBackgroundJob, GarbageCollectionJob>();
        }

        builder.Services.AddSingleton<JobScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapHealth();
        app.MapDataPlane();
        app.MapControlPlane();
        return app;
    }

    /// <summary>Applies migrations, then starts listening.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var store = app.Services.GetRequiredService<IMetadataStore>();
        await store.MigrateAsync(cancellationToken);
        var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wharf");
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
            logger.Listening(string.Join(", ", app.Urls), store.Backend, options.Storage.Path ?? Path.Combine(options.DataDirectory, "blobs"));
        }
    }
}
