using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Core.Storage;
using Wharf.Server.DataPlane;

namespace Wharf.Server.Hosting;

/// <summary>The composition root: the only place that reads configuration and picks backends.</summary>
public static class WharfHost
{
    /// <summary>
    /// Builds the web application. <paramref name="configure"/> lets callers (the CLI's flags, tests)
    /// add configuration on top of appsettings.json and <c>WHARF__*</c> environment variables.
    /// </summary>
    public static WebApplication CreateApp(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables(prefix: "WHARF__");
        configure?.Invoke(builder.Configuration);

        builder.Services.Configure<WharfOptions>(builder.Configuration);
        var options = builder.Configuration.Get<WharfOptions>() ?? new WharfOptions();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null; // set per route: blobs are unbounded, manifests 4 MiB
            kestrel.Listen(System.Net.IPAddress.Parse(options.Address == "localhost" ? "127.0.0.1" : options.Address), options.Port);
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IAccessAuthorizer, OpenAccessAuthorizer>();
        builder.Services.AddSingleton<IBlobStore>(sp => BackendFactory.CreateBlobStore(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        builder.Services.AddSingleton<IMetadataStore>(sp => BackendFactory.CreateMetadataStore(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        builder.Services.AddDataPlane();

        var app = builder.Build();
        app.MapDataPlane();
        return app;
    }

    /// <summary>Applies migrations, then starts listening.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.Services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
    }
}
