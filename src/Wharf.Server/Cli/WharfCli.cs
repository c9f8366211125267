using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Services;
using Wharf.Server.Hosting;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf serve</c> (the default), <c>wharf check</c>, <c>wharf gc</c>. Problems a user can fix end
/// in one line on stderr and a non-zero exit code, never a stack trace.
/// </summary>
internal static class WharfCli
{
    private const int ExitInvalid = 2;

    private static readonly Option<string?> Config = new("--config") { Description = "A JSON settings file, read after appsettings.json and before WHARF__* environment variables.", Recursive = true };
    private static readonly Option<string?> DataDir = new("--data-dir") { Description = "Data directory: the SQLite file and blobs live under it by default. Default ./wharf-data.", Recursive = true };
    private static readonly Option<string?> Metadata = new("--metadata") { Description = "Metadata backend: sqlite (default) or postgres.", Recursive = true };
    private static readonly Option<string?> MetadataConnection = new("--metadata-connection") { Description = "SQLite file path, or an Npgsql connection string for postgres.", Recursive = true };
    private static readonly Option<string?> Address = new("--address") { Description = "Address to listen on. Default 127.0.0.1." };
    private static readonly Option<int?> Port = new("--port") { Description = "TCP port to listen on; 0 picks a free one. Default 5000." };
    private static readonly Option<bool> AllowInsecureOpen = new("--allow-insecure-open") { Description = "Allow auth mode 'open' on a non-loopback address (anyone reaching it can read and write everything)." };

    public static Task<int> RunAsync(string[] args)
    {
        var serve = new Command("serve", "Run the registry (the default command).") { Address, Port, AllowInsecureOpen };
        serve.SetAction(ServeAsync);

        var check = new Command("check", "Verify the store: every blob a manifest references is present with the right size and digest. Exits 1 when a problem is found.");
        check.SetAction(CheckAsync);

        var gc = new Command("gc", "Run garbage collection and upload expiry once, now, and print what was removed.");
        gc.SetAction(GcAsync);

        var root = new RootCommand("Wharf: a container registry that speaks Amazon ECR and the OCI Distribution Spec.")
        {
            Config, DataDir, Metadata, MetadataConnection, Address, Port, AllowInsecureOpen,
        };
        root.Subcommands.Add(serve);
        root.Subcommands.Add(check);
        root.Subcommands.Add(gc);
        root.SetAction(ServeAsync);
        return root.Parse(args).InvokeAsync();
    }

    private static async Task<int> ServeAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(parse, listening: true, cancellationToken);
        if (prepared.App is not { } app)
        {
            return prepared.Exit;
        }

        var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
        try
        {
            await WharfHost.StartAsync(app, cancellationToken);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"port {options.Port} on {options.Address} is already in use; pass --port or stop the other process");
        }
        catch (IOException e) when (e.InnerException is SocketException socket)
        {
            return Fail($"cannot listen on {options.Address}:{options.Port}: {socket.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Fail($"could not start: {OneLine(e)}");
        }

        await app.WaitForShutdownAsync(CancellationToken.None);
        await app.DisposeAsync();
        return 0;
    }

    private static async Task<int> CheckAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(parse, listening: false, cancellationToken);
        if (prepared.App is not { } app)
        {
            return prepared.Exit;
        }

        await using (app)
        {
            await app.Services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
            var checker = app.Services.GetRequiredService<StoreChecker>();
            var problems = 0;
            await foreach (var problem in checker.CheckAsync(cancellationToken))
            {
                problems++;
                await Console.Error.WriteLineAsync(problem);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checked {checker.BlobsChecked} referenced blobs: {(problems == 0 ? "no problems" : $"{problems} problems")}"));
            return problems == 0 ? 0 : 1;
        }
    }

    private static async Task<int> GcAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(parse, listening: false, cancellationToken);
        if (prepared.App is not { } app)
        {
            return prepared.Exit;
        }

        await using (app)
        {
            await app.Services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
            var expired = await app.Services.GetRequiredService<UploadJanitor>().RunOnceAsync(cancellationToken);
            var collector = app.Services.GetRequiredService<GarbageCollector>();

            // Orphaned staging areas are removed when two runs in a row see them; run twice.
            var first = await collector.RunOnceAsync(cancellationToken);
            var second = await collector.RunOnceAsync(cancellationToken);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"removed {expired} expired uploads, {first.BlobsDeleted + second.BlobsDeleted} blobs ({first.BytesFreed + second.BytesFreed} bytes), {first.StagingAreasRemoved + second.StagingAreasRemoved} orphaned staging areas"));
            return 0;
        }
    }

    private static Task<(WebApplication? App, int Exit)> PrepareAsync(ParseResult parse, bool listening, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>();
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                overrides[key] = value;
            }
        }

        Set("DataDirectory", parse.GetValue(DataDir));
        Set("Metadata:Backend", parse.GetValue(Metadata));
        Set("Metadata:ConnectionString", parse.GetValue(MetadataConnection));
        Set("Address", parse.GetValue(Address));
        Set("Port", parse.GetValue(Port)?.ToString(CultureInfo.InvariantCulture));
        if (parse.GetValue(AllowInsecureOpen))
        {
            Set("AllowInsecureOpen", "true");
        }

        var configFile = parse.GetValue(Config);
        if (configFile is not null && !File.Exists(configFile))
        {
            return Task.FromResult<(WebApplication?, int)>((null, Fail($"settings file '{configFile}' does not exist")));
        }

        string? problem = null;
        try
        {
            // Validation runs before any backend is constructed, on the options exactly as bound.
            var app = WharfHost.CreateApp(
                [],
                builder => builder.AddInMemoryCollection(overrides),
                configFile,
                options => (problem = StartupValidator.ValidateAsync(options, listening, cancellationToken).GetAwaiter().GetResult()) is null);
            return Task.FromResult<(WebApplication?, int)>(app is null ? (null, Fail(problem!)) : (app, 0));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return Task.FromResult<(WebApplication?, int)>((null, Fail($"invalid configuration: {OneLine(e)}")));
        }
    }

    private static string OneLine(Exception e)
    {
        var message = e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
        return message.ReplaceLineEndings(" ");
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"wharf: {message}");
        return ExitInvalid;
    }
}
