using System.Net;
using Microsoft.Extensions.Options;
using Wharf.Core.Primitives;

namespace Wharf.Server.Hosting;

/// <summary>
/// The checks that need no I/O, each failure one sentence that says what to fix. Registered with
/// <c>ValidateOnStart</c>; <see cref="StartupValidator"/> runs it first, before the checks that touch
/// the disk or the network.
/// </summary>
internal sealed class WharfOptionsValidator(bool listening = true) : IValidateOptions<WharfOptions>
{
    public ValidateOptionsResult Validate(string? name, WharfOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return FirstProblem(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }

    public string? FirstProblem(WharfOptions options)
    {
        if (listening && options.Port is < 0 or > 65535)
        {
            return $"port {options.Port} is out of range; pass --port with a value from 0 to 65535 (0 picks a free port)";
        }

        if (listening)
        {
            if (ParseAddress(options.Address) is not { } address)
            {
                return $"'{options.Address}' is not an IP address; pass --address with an address such as 127.0.0.1 or 0.0.0.0";
            }

            if (options.Auth == AuthMode.Open && !IPAddress.IsLoopback(address) && !options.AllowInsecureOpen)
            {
                return $"auth mode 'open' lets anyone read and write everything, so Wharf will not listen on {options.Address}, which is not a loopback address; use --address 127.0.0.1, or pass --allow-insecure-open on a network you trust";
            }
        }

        // TLS (issue 20): the certificate settings, and plain HTTP refused in IAM mode off loopback.
        if (listening && ParseAddress(options.Address) is { } tlsAddress && TlsSetup.SettingsProblem(options, tlsAddress) is { } tlsProblem)
        {
            return tlsProblem;
        }

        if (listening && options.Public.Enabled && PublicProblem(options) is { } publicProblem)
        {
            return publicProblem;
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            return "the data directory is empty; pass --data-dir with a writable directory";
        }

        if (!AccountId.TryParse(options.Registry.DefaultAccount, out _))
        {
            return $"Registry:DefaultAccount '{options.Registry.DefaultAccount}' is not a 12-digit account id";
        }

        if (string.IsNullOrWhiteSpace(options.Registry.DefaultRegion))
        {
            return "Registry:DefaultRegion is empty; set a region such as us-east-1";
        }

        foreach (var (key, value) in new[]
        {
            ("Gc:Interval", options.Gc.Interval),
            ("Lifecycle:Interval", options.Lifecycle.Interval),
            ("Scanning:Interval", options.Scanning.Interval),
            ("Scanning:DatabaseRefreshInterval", options.Scanning.DatabaseRefreshInterval),
            ("Uploads:SweepInterval", options.Uploads.SweepInterval),
            ("Images:PullTimeFlushInterval", options.Images.PullTimeFlushInterval),
            ("Public:UsageFlushInterval", options.Public.UsageFlushInterval),
            ("Uploads:Expiry", options.Uploads.Expiry),
            ("Events:Retention", options.Events.Retention),
            ("Events:PruneInterval", options.Events.PruneInterval),
            ("Jobs:Lease", options.Jobs.Lease),
            ("Replication:Interval", options.Replication.Interval),
            ("Replication:RetryBaseDelay", options.Replication.RetryBaseDelay),
            ("Replication:MaxRetryDelay", options.Replication.MaxRetryDelay),
            ("Replication:MaxRetryWindow", options.Replication.MaxRetryWindow),
            ("Replication:ClaimTimeout", options.Replication.ClaimTimeout),
            ("Console:IdleTimeout", options.Console.IdleTimeout),
            ("Console:AbsoluteTimeout", options.Console.AbsoluteTimeout),
            ("Console:SignInWindow", options.Console.SignInWindow),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                return $"{key} is {value}; set a positive duration such as 00:10:00";
            }
        }

        foreach (var url in options.Scanning.DatabaseUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return $"Scanning:DatabaseUrls has '{url}', which is not an http or https URL of an OSV export (zip)";
            }
        }

        if (options.Gc.GraceWindow < TimeSpan.Zero)
        {
            return $"Gc:GraceWindow is {options.Gc.GraceWindow}; set zero or a positive duration such as 01:00:00";
        }

        if (options.Limits.MaxOpenUploadsPerCaller < 0)
        {
            return $"Limits:MaxOpenUploadsPerCaller is {options.Limits.MaxOpenUploadsPerCaller}; set 0 (no limit) or a positive number such as 1000";
        }

        foreach (var (name, rate) in RequestLimits.Rates(options.Limits))
        {
            if (rate.RequestsPerSecond < 0 || rate.RequestsPerSecond > 0 && rate.Burst < 1)
            {
                return $"Limits:{name} is {rate.RequestsPerSecond} requests per second with a burst of {rate.Burst}; set RequestsPerSecond to 0 (no limit) or a positive number, and Burst to at least 1";
            }
        }

        foreach (var (name, rate) in new[] { ("AnonymousPulls", options.Public.AnonymousPulls), ("AuthenticatedPulls", options.Public.AuthenticatedPulls) })
        {
            if (rate.RequestsPerSecond < 0 || rate.RequestsPerSecond > 0 && rate.Burst < 1)
            {
                return $"Public:{name} is {rate.RequestsPerSecond} pulls per second with a burst of {rate.Burst}; set RequestsPerSecond to 0 (no limit) or a positive number, and Burst to at least 1";
            }
        }

        if (options.Console.SignInFailures < 1)
        {
            return $"Console:SignInFailures is {options.Console.SignInFailures}; set how many failed sign-ins pause sign-in, at least 1 (such as 5)";
        }

        if (options.Console.PageSize is < 1 or > 1000)
        {
            return $"Console:PageSize is {options.Console.PageSize}; set how many rows a console list shows, from 1 to 1000 (such as 50)";
        }

        if (options.Public.AnonymousMonthlyBytes < 0)
        {
            return $"Public:AnonymousMonthlyBytes is {options.Public.AnonymousMonthlyBytes}; set 0 (no cap) or a number of bytes such as 500000000000";
        }

        if (options.Storage.Backend == StorageBackend.S3 && S3Problem(options.Storage.S3) is { } s3Problem)
        {
            return s3Problem;
        }

        if (options.Replication.Concurrency is < 1 or > 64)
        {
            return $"Replication:Concurrency is {options.Replication.Concurrency}; set a number of copies at once from 1 to 64, such as 4";
        }

        if (Replication.RemoteRegionsValidator.FirstProblem(options.Replication.Regions) is { } remoteProblem)
        {
            return remoteProblem;
        }

        // Telemetry (docs/operations.md, "Metrics").
        if (TelemetryProblem(options) is { } telemetryProblem)
        {
            return telemetryProblem;
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            return $"ShutdownTimeout is {options.ShutdownTimeout}; set zero or a positive duration such as 00:00:30";
        }

        if (options.IdleTrimAfter < TimeSpan.Zero)
        {
            return $"IdleTrimAfter is {options.IdleTrimAfter}; set zero (off) or a positive duration such as 00:00:10";
        }

        // ---- The audit trail (Audit:*) ----
        if (AuditProblem(options.Audit) is { } auditProblem)
        {
            return auditProblem;
        }

        // Webhooks (issue 20, point 4).
        if (WebhookProblem(options.Webhooks) is { } webhookProblem)
        {
            return webhookProblem;
        }

        return null;
    }

    // ---- Webhooks (issue 20, point 4): delivery settings and the subscriptions defined in settings. ----
    private static string? WebhookProblem(WebhookOptions webhooks)
    {
        foreach (var (key, value) in new[]
        {
            ("Webhooks:Interval", webhooks.Interval), ("Webhooks:Timeout", webhooks.Timeout), ("Webhooks:RetryBaseDelay", webhooks.RetryBaseDelay),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                return $"{key} is {value}; set a positive duration such as 00:00:05";
            }
        }

        if (webhooks.MaxRetryDelay < webhooks.RetryBaseDelay)
        {
            return $"Webhooks:MaxRetryDelay ({webhooks.MaxRetryDelay}) is shorter than Webhooks:RetryBaseDelay ({webhooks.RetryBaseDelay}); set it at least as long, such as 00:10:00";
        }

        if (webhooks.RetryFor < TimeSpan.Zero)
        {
            return $"Webhooks:RetryFor is {webhooks.RetryFor}; set zero (one attempt) or a duration such as 1.00:00:00";
        }

        if (webhooks.Concurrency is < 1 or > 64)
        {
            return $"Webhooks:Concurrency is {webhooks.Concurrency}; set a number of deliveries at once from 1 to 64, such as 4";
        }

        foreach (var (name, subscription) in webhooks.Subscriptions)
        {
            try
            {
                Webhooks.WebhookSubscriptions.Check(name, subscription.Url, subscription.Secret, subscription.Pattern);
            }
            catch (Webhooks.WebhookDefinitionException e)
            {
                return $"Webhooks:Subscriptions:{name}: {e.Message}";
            }
        }

        return null;
    }

    private static string? AuditProblem(AuditOptions audit)
    {
        if (audit.Retention <= TimeSpan.Zero)
        {
            return $"Audit:Retention is {audit.Retention}; set a positive duration such as 90.00:00:00 (90 days)";
        }

        if (audit.PruneInterval <= TimeSpan.Zero)
        {
            return $"Audit:PruneInterval is {audit.PruneInterval}; set a positive duration such as 01:00:00";
        }

        if (audit.QueueCapacity is < 1 or > 10_000_000)
        {
            return $"Audit:QueueCapacity is {audit.QueueCapacity}; set how many records may wait for the writer, from 1 to 10000000 (such as 10000)";
        }

        return audit.File is { Length: > 0 } file && (file.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || Directory.Exists(file))
            ? $"Audit:File is '{file}', which is not a file path; set the path of a file to append records to, or leave it empty"
            : null;
    }

    private static string? TelemetryProblem(WharfOptions options)
    {
        var metrics = options.Telemetry.Metrics;
        if (Telemetry.MetricsAllowList.TryParse(metrics.AllowFrom, out var entry) is null)
        {
            return $"Telemetry:Metrics:AllowFrom has '{entry}', which is neither an IP address nor a CIDR block; list addresses and blocks such as 127.0.0.1, 10.0.0.0/8, or write any";
        }

        if (metrics.Port is { } port && (port is < 0 or > 65535 || port != 0 && (port == options.Port || options.Public.Enabled && port == options.Public.Port)))
        {
            return $"Telemetry:Metrics:Port {port} is out of range or taken by another listener; set a free port from 0 to 65535 other than Port and Public:Port, or leave it empty to serve /metrics on the main port";
        }

        return null;
    }

    private static string? S3Problem(S3StorageOptions s3)
    {
        if (string.IsNullOrWhiteSpace(s3.Bucket))
        {
            return "the S3 blob store needs a bucket; set Storage:S3:Bucket (WHARF__Storage__S3__Bucket) to an existing bucket";
        }

        if (!string.IsNullOrWhiteSpace(s3.Endpoint)
            && (!Uri.TryCreate(s3.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.UserInfo.Length > 0))
        {
            return "Storage:S3:Endpoint is not an http or https URL such as http://127.0.0.1:7480 (credentials go in Storage:S3:AccessKeyId and SecretAccessKey); leave it empty for AWS S3";
        }

        if (string.IsNullOrWhiteSpace(s3.Region))
        {
            return "Storage:S3:Region is empty; set the bucket's region such as us-east-1";
        }

        if (string.IsNullOrEmpty(s3.AccessKeyId) != string.IsNullOrEmpty(s3.SecretAccessKey))
        {
            return "Storage:S3:AccessKeyId and Storage:S3:SecretAccessKey go together; set both, or neither to use the AWS SDK's default credentials";
        }

        if (s3.RedirectLifetime <= TimeSpan.Zero || s3.RedirectLifetime > TimeSpan.FromDays(7))
        {
            return $"Storage:S3:RedirectLifetime is {s3.RedirectLifetime}; set a positive duration of at most 7 days (S3's limit for a presigned URL) such as 00:15:00";
        }

        return null;
    }

    /// <summary>An IP address, or <c>localhost</c> as the IPv4 loopback; null otherwise.</summary>
    /// <summary>The public address's settings (docs/public.md): its port beside the main one, its host name.</summary>
    private static string? PublicProblem(WharfOptions options)
    {
        var pub = options.Public;
        if (pub.Port is < 0 or > 65535)
        {
            return $"Public:Port {pub.Port} is out of range; pass --public-port with a value from 0 to 65535 (0 picks a free port), or set Public:Enabled to false";
        }

        if (pub.Port != 0 && pub.Port == options.Port)
        {
            return $"Public:Port {pub.Port} is the main port too; pass --public-port with another port (the public address has a listener of its own), or set Public:Enabled to false";
        }

        if (pub.Host is not null && Uri.CheckHostName(pub.Host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            return $"Public:Host '{pub.Host}' is not a host name; pass --public-host with a name such as public.example.com (no scheme, port or path)";
        }

        return null;
    }

    public static IPAddress? ParseAddress(string? address) =>
        string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(address, out var parsed) ? parsed
        : null;
}
