namespace Wharf.Server.Hosting;

/// <summary>Metrics, traces and logs (<c>Telemetry:*</c>).</summary>
public sealed class TelemetryOptions
{
}
