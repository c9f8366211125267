namespace Wharf.Server.Hosting;

/// <summary>Metrics, traces and logs (<c>Telemetry:*</c>). Traces need no setting: they follow the standard <c>OTEL_EXPORTER_OTLP_*</c> variables.</summary>
public sealed class TelemetryOptions
{
    public MetricsTelemetryOptions Metrics { get; set; } = new();

    public LogTelemetryOptions Logs { get; set; } = new();
}

/// <summary>The Prometheus endpoint, <c>/metrics</c> (docs/operations.md, "Metrics").</summary>
public sealed class MetricsTelemetryOptions
{
    /// <summary>Whether metrics are collected and served at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A port of its own for <c>/metrics</c> (on <see cref="WharfOptions.Address"/>; 0 picks a free one), or null
    /// to serve it on the main port. The allow-list applies on either.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// Who may scrape: addresses and CIDR blocks separated by commas or spaces (<c>10.0.0.0/8, 192.168.1.7</c>), or
    /// <c>any</c>. Loopback only by default. Others get 403 with a one-line plain-text body.
    /// </summary>
    public string AllowFrom { get; set; } = "127.0.0.0/8, ::1";
}

/// <summary>How log lines are written to standard output.</summary>
public sealed class LogTelemetryOptions
{
    public LogFormat Format { get; set; } = LogFormat.Text;
}

public enum LogFormat
{
    /// <summary>The console's readable text, each entry with the request id of the request that wrote it.</summary>
    Text,

    /// <summary>One JSON object per line: time, level, category, event id, message, exception, and the request's scope fields.</summary>
    Json,
}
