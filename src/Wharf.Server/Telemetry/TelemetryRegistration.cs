using Wharf.Server.Hosting;

namespace Wharf.Server.Telemetry;

/// <summary>Metrics (OpenTelemetry meters, Prometheus <c>/metrics</c>), traces (OTLP) and JSON logs.</summary>
internal static class TelemetryRegistration
{
    public static IServiceCollection AddTelemetry(this IServiceCollection services, WharfOptions options) => services;

    public static WebApplication MapMetrics(this WebApplication app) => app;
}
