using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Wharf.Server.Cli;

/// <summary>
/// The flags, each naming the setting it overrides so that <c>--help</c> also documents appsettings.json
/// and <c>WHARF__*</c>.
/// </summary>
internal static class CliOptions
{
    public static readonly Option<string?> Config = new("--config")
    {
        Description = "A JSON settings file (same keys as appsettings.json), read after appsettings.json and before WHARF__* environment variables and flags.",
        HelpName = "file",
        Recursive = true,
    };

    public static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = "Data directory; the SQLite file (wharf.db) and the blobs (blobs/) live under it unless set otherwise. Setting DataDirectory, default ./wharf-data.",
        HelpName = "dir",
        Recursive = true,
    };

    public static readonly Option<string?> Metadata = CreateMetadata();

    public static readonly Option<string?> MetadataConnection = new("--metadata-connection")
    {
        Description = "sqlite: the database file (default <data-dir>/wharf.db); postgres: an Npgsql connection string such as 'Host=db;Username=wharf;Password=…;Database=wharf'. Setting Metadata:ConnectionString.",
        HelpName = "path|connection-string",
        Recursive = true,
    };

    public static readonly Option<string?> Address = new("--address")
    {
        Description = "IP address to listen on (0.0.0.0 for all IPv4 interfaces, or localhost). Setting Address, default 127.0.0.1.",
        HelpName = "ip",
    };

    public static readonly Option<int?> Port = new("--port")
    {
        Description = "TCP port to listen on, 0 to 65535; 0 picks a free one. Setting Port, default 5000.",
        HelpName = "port",
        CustomParser = ParsePort,
    };

    public static readonly Option<int?> PublicPort = new("--public-port")
    {
        Description = "TCP port of the public address (public registries' pulls, token realm and gallery), on the same --address, 0 to 65535; 0 picks a free one. Setting Public:Port, default 5001; Public:Enabled false turns the public address off.",
        HelpName = "port",
        CustomParser = ParsePort,
    };

    public static readonly Option<string?> PublicHost = new("--public-host")
    {
        Description = "A host name (e.g. public.example.com, where DNS points it here) whose requests on the main port are the public address's; also the address public repository URIs show. Setting Public:Host, default none.",
        HelpName = "host",
    };

    public static readonly Option<string?> Auth = CreateAuth();

    public static readonly Option<bool> AllowInsecureOpen = new("--allow-insecure-open")
    {
        Description = "In auth mode 'open' (anyone is the default account's root), listen on a non-loopback address anyway; only on a network you trust. Setting AllowInsecureOpen.",
    };

    public static readonly Option<string?> TlsCertificate = new("--tls-cert")
    {
        Description = "Serve HTTPS (HTTP/1.1 and HTTP/2, TLS 1.2+) on both ports with this PEM certificate, followed by its intermediates; read again whenever it changes, without a restart. Needs --tls-key. Setting Tls:Certificate.",
        HelpName = "file",
    };

    public static readonly Option<string?> TlsKey = new("--tls-key")
    {
        Description = "The private key of --tls-cert, an unencrypted PEM file (keep it mode 0600). Setting Tls:Key.",
        HelpName = "file",
    };

    public static readonly Option<string?> Tls = CreateTls();

    public static readonly Option<bool> AllowPlainHttp = new("--allow-plain-http")
    {
        Description = "In IAM mode, listen over plain HTTP on a non-loopback address anyway (registry passwords and tokens then cross the network in clear); only behind a TLS-terminating proxy on a network you trust. Setting AllowPlainHttp.",
    };

    public static readonly Option<int?> IdleTrimAfter = new("--idle-trim-after")
    {
        Description = "Seconds with no request (scrapes and health probes aside) after which the server gives the memory a burst grew back to the system: one full, compacting collection and malloc_trim, once per idle period; 0 turns it off. Setting IdleTrimAfter, default 00:00:10.",
        HelpName = "seconds",
        CustomParser = ParseSeconds,
    };

    /// <summary>Added to each command that reports (not recursive: a command without it refuses it).</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print the result as one JSON document on stdout (camelCase fields, listed in docs/operations.md, 'The command line'), nothing else; progress and problems go to stderr. Exit codes are the same.",
    };

    /// <summary>Flags every command takes: where the store is.</summary>
    public static IEnumerable<Option> Shared => [Config, DataDir, Metadata, MetadataConnection];

    /// <summary>Flags of <c>serve</c>: where to listen, and how the running server behaves.</summary>
    public static IEnumerable<Option> Listening => [Address, Port, PublicPort, PublicHost, Auth, AllowInsecureOpen, TlsCertificate, TlsKey, Tls, AllowPlainHttp, IdleTrimAfter];

    /// <summary>The flags given, as configuration keys of <see cref="Hosting.WharfOptions"/>.</summary>
    public static Dictionary<string, string?> ToSettings(ParseResult parse)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                settings[key] = value;
            }
        }

        Set("DataDirectory", parse.GetValue(DataDir));
        Set("Metadata:Backend", parse.GetValue(Metadata));
        Set("Metadata:ConnectionString", parse.GetValue(MetadataConnection));
        Set("Address", parse.GetValue(Address));
        Set("Port", parse.GetValue(Port)?.ToString(CultureInfo.InvariantCulture));
        Set("Public:Port", parse.GetValue(PublicPort)?.ToString(CultureInfo.InvariantCulture));
        Set("Public:Host", parse.GetValue(PublicHost));
        Set("Auth", parse.GetValue(Auth));
        if (parse.GetValue(AllowInsecureOpen))
        {
            Set("AllowInsecureOpen", "true");
        }

        Set("Tls:Certificate", parse.GetValue(TlsCertificate));
        Set("Tls:Key", parse.GetValue(TlsKey));
        if (parse.GetValue(Tls) is not null)
        {
            Set("Tls:SelfSigned", "true");
        }

        if (parse.GetValue(AllowPlainHttp))
        {
            Set("AllowPlainHttp", "true");
        }

        Set("IdleTrimAfter", parse.GetValue(IdleTrimAfter) is { } seconds ? TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture) : null);

        return settings;
    }

    private static Option<string?> CreateTls()
    {
        var option = new Option<string?>("--tls")
        {
            Description = "self-signed: serve HTTPS with a certificate of a local CA that Wharf creates once under <data-dir>/tls/ (ca.pem; keys mode 0600) for localhost, the loopbacks, the address, this machine's name and Tls:Names, and prints at start how podman, skopeo, docker, the AWS CLI and curl trust it. Setting Tls:SelfSigned.",
            HelpName = "self-signed",
        };
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (value is not null && !value.Equals("self-signed", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"--tls must be self-signed, not '{value}' (a certificate of your own goes in --tls-cert and --tls-key)");
            }
        });
        return option;
    }

    private static Option<string?> CreateAuth()
    {
        var option = new Option<string?>("--auth")
        {
            Description = "Authentication: iam (SigV4-signed API calls and GetAuthorizationToken tokens on /v2, as ECR; the first start prints a root access key) or open (anyone is the default account's root; local development only). Setting Auth, default iam.",
            HelpName = "iam|open",
        };
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (value is not null && !value.Equals("iam", StringComparison.OrdinalIgnoreCase) && !value.Equals("open", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"--auth must be iam or open, not '{value}'");
            }
        });
        return option;
    }

    private static Option<string?> CreateMetadata()
    {
        var option = new Option<string?>("--metadata")
        {
            Description = "Metadata backend: sqlite (embedded, one node) or postgres (several nodes; needs --metadata-connection). Setting Metadata:Backend, default sqlite.",
            HelpName = "sqlite|postgres",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (value is not null && !value.Equals("sqlite", StringComparison.OrdinalIgnoreCase) && !value.Equals("postgres", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"--metadata must be sqlite or postgres, not '{value}'");
            }
        });
        return option;
    }

    private static int? ParsePort(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return port;
        }

        var name = (result.Parent as OptionResult)?.Option.Name ?? "--port";
        result.AddError($"{name} must be a number from 0 to 65535, not '{token}'");
        return null;
    }

    private static int? ParseSeconds(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 86_400)
        {
            return seconds;
        }

        var name = (result.Parent as OptionResult)?.Option.Name ?? "--idle-trim-after";
        result.AddError($"{name} must be a number of seconds from 0 (off) to 86400, not '{token}'");
        return null;
    }
}
