using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Wharf.Core.Storage;
using Wharf.Core.Telemetry;
using Wharf.Server.Hosting;
using Wharf.Server.Public;

namespace Wharf.Server.Telemetry;

/// <summary>
/// Metrics (OpenTelemetry meters, Prometheus <c>/metrics</c>), traces (OTLP, when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> variable is set) and the log format.
/// docs/operations.md, "Metrics" and "Tracing and logs".
/// </summary>
internal static class TelemetryRegistration
{
    public const string ServiceName = "wharf";

    /// <summary>Whether the standard OTLP variables ask for traces (the exporter reads them, and the others, itself).</summary>
    public static bool TracingRequested =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
        || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));

    private static string Version =>
        typeof(TelemetryRegistration).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(TelemetryRegistration).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, WharfOptions options)
    {
        var metrics = options.Telemetry.Metrics;
        var address = WharfOptionsValidator.ParseAddress(options.Address) ?? System.Net.IPAddress.Loopback;
        var listener = new MetricsListener(metrics.Enabled ? metrics.Port : null, address);
        services.AddSingleton(listener);
        services.Configure<KestrelServerOptions>(listener.Listen);
        AddLogFormat(services, options.Telemetry.Logs.Format);

        var tracing = TracingRequested;
        if (!metrics.Enabled && !tracing)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: Version));
        if (metrics.Enabled)
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IRequestObserver, RequestMetrics>());
            services.AddSingleton<StoreGauges>();
            telemetry.WithMetrics(builder => builder
                .AddMeter(WharfInstrumentation.Name)
                .AddRuntimeInstrumentation()
                .AddView(instrument => new MetricStreamConfiguration { CardinalityLimit = CardinalityLimit(instrument) })
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0)); // a scrape sees what happened before it
        }

        if (tracing)
        {
            telemetry.WithTracing(builder => builder
                .AddSource(WharfInstrumentation.Name)
                .AddAspNetCoreInstrumentation(aspnet =>
                {
                    aspnet.EnrichWithHttpRequest = ScrubRequest;
                    aspnet.EnrichWithHttpResponse = NameSpan;
                })
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }

        return services;
    }

    /// <summary>
    /// The label combinations an instrument may keep (overflow goes to one <c>otel_metric_overflow</c> series). The SDK
    /// allocates every instrument's table of points at this size when the instrument is first seen, and its default,
    /// 2,000, made the tables of the ~30 instruments ~7 MB of a fresh server's memory. Wharf's requests, bytes and store
    /// calls keep that default: their labels grow with the API (surface × operation × method × status code). The runtime's
    /// instruments (GC generation, CPU mode, exception type) and Wharf's jobs, GC and gauges have a few dozen at most.
    /// </summary>
    internal static int CardinalityLimit(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.Meter.Name == WharfInstrumentation.Name
            && instrument.Name is "wharf.requests" or "wharf.request.duration" or "wharf.received" or "wharf.sent"
                or "wharf.metadata_store.duration" or "wharf.blob_store.duration"
            ? WideCardinalityLimit
            : NarrowCardinalityLimit;

    internal const int WideCardinalityLimit = 2000;

    internal const int NarrowCardinalityLimit = 100;

    /// <summary>The blob store, timed and traced when metrics or traces are on; as it is otherwise.</summary>
    public static IBlobStore Instrument(IBlobStore store, WharfOptions options) =>
        options.Telemetry.Metrics.Enabled || TracingRequested ? new InstrumentedBlobStore(store) : store;

    /// <summary>
    /// <c>/metrics</c>: on the main port (never the public address), or only on <c>Telemetry:Metrics:Port</c> when set;
    /// callers outside <c>Telemetry:Metrics:AllowFrom</c> get 403. Each scrape first refreshes the store gauges (at most
    /// once a second).
    /// </summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value.Telemetry.Metrics;
        var listener = app.Services.GetRequiredService<MetricsListener>();
        if (options.Enabled)
        {
            var allowed = MetricsAllowList.TryParse(options.AllowFrom, out _)
                ?? throw new InvalidOperationException("Telemetry:Metrics:AllowFrom was not validated");
            var publicAddress = app.Services.GetRequiredService<PublicListener>();
            var gauges = app.Services.GetRequiredService<StoreGauges>();
            app.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: context => context.Request.Path == "/metrics"
                    && (listener.HasOwnPort ? listener.IsMetricsConnection(context) : !publicAddress.IsPublic(context)),
                path: null,
                configureBranchedPipeline: branch => branch.Use(async (context, next) =>
                {
                    if (!allowed.Allows(context.Connection.RemoteIpAddress))
                    {
                        context.Response.StatusCode = StatusCodes.Status403Forbidden;
                        context.Response.ContentType = "text/plain; charset=utf-8";
                        await context.Response.WriteAsync("Forbidden: /metrics is served only to the addresses in Telemetry:Metrics:AllowFrom.\n", context.RequestAborted);
                        return;
                    }

                    RequestRecord.Of(context)?.Operation = "Scrape";
                    await gauges.RefreshAsync(context.RequestAborted);
                    await next(context);
                }),
                optionsName: null);
        }

        if (listener.HasOwnPort)
        {
            // Nothing but /metrics on the metrics port.
            app.MapWhen(listener.IsMetricsConnection, branch => branch.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        }

        return app;
    }

    /// <summary>
    /// Text as before, with scopes (each line written for a request shows <c>=&gt; RequestId:…</c>), or JSON lines. ASP.NET
    /// Core's own per-request scope is turned off: it would put a second, different <c>RequestId</c> (Kestrel's connection
    /// counter) beside the one the client saw, and it costs every request.
    /// </summary>
    private static void AddLogFormat(IServiceCollection services, LogFormat format)
    {
        services.AddLogging(logging =>
        {
            logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
            if (format == LogFormat.Json)
            {
                logging.AddJsonConsole(json =>
                {
                    json.IncludeScopes = true;
                    json.UseUtcTimestamp = true;
                    json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                    json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
                });
            }
            else
            {
                logging.AddSimpleConsole(text => text.IncludeScopes = true);
            }
        });
    }

    /// <summary>Keeps secrets out of the request's span: no query string (signatures, tokens), and no download token from the path.</summary>
    private static void ScrubRequest(Activity activity, HttpRequest request)
    {
        activity.SetTag("url.query", null);
        if (request.Path.StartsWithSegments("/layers"))
        {
            activity.SetTag("url.path", "/layers/{token}");
        }
    }

    /// <summary>Names the request's span by what it was (<c>v2 GetManifest</c>, <c>ecr DescribeRepositories</c>) rather than its path.</summary>
    private static void NameSpan(Activity activity, HttpResponse response)
    {
        if (RequestRecord.Of(response.HttpContext) is { } record)
        {
            activity.DisplayName = $"{record.Surface} {OperationLabels.Operation(record.Surface, record.Operation)}";
            activity.SetTag("wharf.request_id", record.RequestId);
        }
    }
}
