using System.Net;
using Wharf.Core.Primitives;
using Wharf.Metadata.Postgres;

namespace Wharf.Server.Hosting;

/// <summary>
/// Checks at start that say what to fix, in one line each, before anything listens. Returns null
/// when the options are usable.
/// </summary>
internal static class StartupValidator
{
    public static async Task<string?> ValidateAsync(WharfOptions options, bool listening, CancellationToken cancellationToken)
    {
        if (listening && options.Port is < 0 or > 65535)
        {
            return $"port {options.Port} is out of range; pass --port with a value from 0 to 65535 (0 picks a free port)";
        }

        if (listening && ParseAddress(options.Address) is not { } address)
        {
            return $"'{options.Address}' is not an IP address; pass --address with an address such as 127.0.0.1 or 0.0.0.0";
        }
        else if (listening && options.Auth == AuthMode.Open && !IPAddress.IsLoopback(ParseAddress(options.Address)!) && !options.AllowInsecureOpen)
        {
            return $"auth mode 'open' lets anyone read and write everything, so Wharf will not listen on {options.Address}, which is not a loopback address; use --address 127.0.0.1, or pass --allow-insecure-open on a network you trust";
        }

        if (!AccountId.TryParse(options.Registry.DefaultAccount, out _))
        {
            return $"Registry:DefaultAccount '{options.Registry.DefaultAccount}' is not a 12-digit account id";
        }

        if (string.IsNullOrWhiteSpace(options.Registry.DefaultRegion))
        {
            return "Registry:DefaultRegion is empty; set a region such as us-east-1";
        }

        foreach (var (name, value) in new[] { ("Gc:Interval", options.Gc.Interval), ("Uploads:SweepInterval", options.Uploads.SweepInterval), ("Uploads:Expiry", options.Uploads.Expiry + TimeSpan.FromTicks(1)) })
        {
            if (value <= TimeSpan.Zero)
            {
                return $"{name} must be positive";
            }
        }

        if (options.Gc.GraceWindow < TimeSpan.Zero)
        {
            return "Gc:GraceWindow must not be negative";
        }

        if (WritableDirectoryProblem(options.DataDirectory) is { } dataProblem)
        {
            return $"data directory '{options.DataDirectory}' is not usable ({dataProblem}); pass --data-dir with a writable directory";
        }

        if (options.Storage.Path is { } blobPath && WritableDirectoryProblem(blobPath) is { } blobProblem)
        {
            return $"blob directory '{blobPath}' is not usable ({blobProblem}); set Storage:Path to a writable directory";
        }

        if (options.Metadata.Backend == MetadataBackend.Postgres)
        {
            if (string.IsNullOrWhiteSpace(options.Metadata.ConnectionString))
            {
                return "the PostgreSQL backend needs a connection string; pass --metadata-connection 'Host=…;Username=…;Database=…'";
            }

            if (await PostgresMetadataStore.ProbeAsync(options.Metadata.ConnectionString, cancellationToken) is { } unreachable)
            {
                return unreachable + "; check --metadata-connection and that the server is running";
            }
        }

        return null;
    }

    public static IPAddress? ParseAddress(string address) =>
        string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(address, out var parsed) ? parsed
        : null;

    private static string? WritableDirectoryProblem(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".wharf-write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return e.Message.TrimEnd('.');
        }
    }
}
