using System.Net;
using System.Net.Sockets;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Hosting;

/// <summary>The real server process refuses bad settings with one readable line and a non-zero exit.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string dataDirectory = Path.Combine(Path.GetTempPath(), "wharf-startup-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task An_out_of_range_port_is_refused() =>
        AssertRefused(await ServeAsync("--port", "70000"), "port 70000 is out of range");

    [Fact]
    public async Task A_port_in_use_is_refused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        AssertRefused(await ServeAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"port {port} on 127.0.0.1 is already in use");
    }

    [Fact]
    public async Task A_public_port_in_use_is_refused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        AssertRefused(await ServeAsync("--public-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"the public address's port {port} on 127.0.0.1 is already in use; pass --public-port");
    }

    [Fact]
    public async Task Bad_public_address_settings_are_refused()
    {
        AssertRefused(await ServeAsync("--public-port", "70000"), "Public:Port 70000 is out of range");
        AssertRefused(await ServeAsync("--port", "5123", "--public-port", "5123"), "Public:Port 5123 is the main port too");
        AssertRefused(await ServeAsync("--public-host", "https://public.example.com/"), "Public:Host 'https://public.example.com/' is not a host name");
        AssertRefused(await ServeAsync("--public-port", "x"), "--public-port must be a number from 0 to 65535, not 'x'");
    }

    [Fact]
    public async Task An_unwritable_data_directory_is_refused() =>
        AssertRefused(await ServeAsync("--data-dir", "/proc/wharf-cannot-live-here"), "data directory '/proc/wharf-cannot-live-here' is not usable");

    [Fact]
    public async Task An_unreachable_PostgreSQL_is_refused()
    {
        var port = Ports.Free();
        AssertRefused(
            await ServeAsync("--metadata", "postgres", "--metadata-connection", $"Host=127.0.0.1;Port={port};Username=wharf;Database=wharf"),
            $"cannot connect to PostgreSQL at 127.0.0.1:{port}");
    }

    [Fact]
    public async Task An_unknown_backend_flag_is_refused() =>
        AssertRefused(await ServeAsync("--metadata", "oracle"), "--metadata must be sqlite or postgres, not 'oracle'");

    [Fact]
    public async Task A_flag_that_does_not_parse_is_refused() =>
        AssertRefused(await ServeAsync("--port", "five-thousand"), "--port must be a number from 0 to 65535, not 'five-thousand'; run 'wharf --help'");

    [Fact]
    public async Task An_unknown_flag_is_refused() =>
        AssertRefused(await ServeAsync("--prot", "5000"), "Unrecognized command or argument '--prot'");

    [Fact]
    public async Task A_setting_of_the_wrong_type_names_the_setting_and_what_it_accepts()
    {
        var result = await ServeAsync(new Dictionary<string, string> { ["WHARF__Metadata__Backend"] = "oracle" });
        AssertRefused(result, "setting Metadata:Backend is 'oracle', expected one of sqlite, postgres; fix it in the flag, in WHARF__Metadata__Backend");
    }

    [Fact]
    public async Task A_negative_interval_is_refused() =>
        AssertRefused(await ServeAsync(new Dictionary<string, string> { ["WHARF__Gc__Interval"] = "-00:05:00" }), "Gc:Interval is -00:05:00; set a positive duration");

    [Fact]
    public async Task Console_settings_out_of_range_are_refused()
    {
        AssertRefused(await ServeAsync(new Dictionary<string, string> { ["WHARF__Console__IdleTimeout"] = "00:00:00" }), "Console:IdleTimeout is 00:00:00; set a positive duration");
        AssertRefused(await ServeAsync(new Dictionary<string, string> { ["WHARF__Console__PageSize"] = "0" }), "Console:PageSize is 0; set how many rows a console list shows, from 1 to 1000");
        AssertRefused(await ServeAsync(new Dictionary<string, string> { ["WHARF__Console__SignInFailures"] = "0" }), "Console:SignInFailures is 0; set how many failed sign-ins pause sign-in");
    }

    [Fact]
    public async Task The_S3_backend_without_a_bucket_is_refused() =>
        AssertRefused(
            await ServeAsync(new Dictionary<string, string> { ["WHARF__Storage__Backend"] = "S3", ["WHARF__Storage__S3__Endpoint"] = "http://127.0.0.1:9" }),
            "the S3 blob store needs a bucket; set Storage:S3:Bucket");

    [Fact]
    public async Task An_S3_access_key_without_its_secret_is_refused() =>
        AssertRefused(
            await ServeAsync(new Dictionary<string, string> { ["WHARF__Storage__Backend"] = "S3", ["WHARF__Storage__S3__Bucket"] = "b", ["WHARF__Storage__S3__AccessKeyId"] = "AKIDEXAMPLE" }),
            "Storage:S3:AccessKeyId and Storage:S3:SecretAccessKey go together");

    [Fact]
    public async Task A_missing_settings_file_is_refused() =>
        AssertRefused(await ServeAsync("--config", "/nonexistent/wharf.json"), "settings file '/nonexistent/wharf.json' does not exist");

    [Fact]
    public async Task Open_mode_refuses_a_non_loopback_address() =>
        AssertRefused(await ServeAsync("--address", "0.0.0.0", "--port", "0"), "will not listen on 0.0.0.0");

    [Fact]
    public async Task Open_mode_listens_on_a_non_loopback_address_when_allowed_and_warns()
    {
        await using var server = await WharfProcess.StartAsync(dataDirectory, null, "--address", "0.0.0.0", "--allow-insecure-open");
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Auth mode 'open'", server.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("0.0.0.0", server.StandardOutput, StringComparison.Ordinal);
    }

    private Task<ProcessResult> ServeAsync(params string[] args) => ServeAsync(null, args);

    private Task<ProcessResult> ServeAsync(IDictionary<string, string>? environment, params string[] args)
    {
        var all = new List<string> { "serve" };
        if (!args.Contains("--data-dir"))
        {
            all.AddRange(["--data-dir", dataDirectory]);
        }

        if (!args.Contains("--port"))
        {
            all.AddRange(["--port", "0"]);
        }

        if (!args.Contains("--public-port"))
        {
            all.AddRange(["--public-port", "0"]);
        }

        all.AddRange(args);
        var withAuth = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        withAuth.TryAdd("WHARF__Auth", "Open");
        return WharfCommand.RunAsync(all, TimeSpan.FromSeconds(60), withAuth);
    }

    internal static void AssertRefused(ProcessResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.StandardError}");
        Assert.StartsWith("wharf: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }
}
