using System.CommandLine;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Wharf.Server.Hosting;

namespace Wharf.Server.Cli;

/// <summary><c>wharf serve</c>: run until SIGTERM / Ctrl-C, then drain in-flight requests.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var serve = new Command(
            "serve",
            "Run the registry (the default command): HTTP on 127.0.0.1:5000 (HTTPS with --tls-cert and --tls-key, or --tls self-signed; IAM mode on a non-loopback address needs one of them or --allow-plain-http), public registries' address (anonymous pulls, token realm, gallery) on port 5001 of the same address, data under ./wharf-data in the working directory. SIGTERM or Ctrl-C stops accepting connections and lets requests in flight finish (setting ShutdownTimeout, default 30 s). Each caller's request rates and open upload sessions are limited on each node (settings Limits:*).");
        foreach (var option in CliOptions.Listening)
        {
            serve.Options.Add(option);
        }

        serve.SetAction(RunAsync);
        return serve;
    }

    public static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: true, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
        try
        {
            await WharfHost.StartAsync(app, cancellationToken);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel's message names the address it failed to bind ("…http://127.0.0.1:5001: address already in use").
            return await FailAsync(app, options.Public.Enabled && options.Public.Port != 0 && e.Message.Contains($":{options.Public.Port}:", StringComparison.Ordinal)
                ? $"the public address's port {options.Public.Port} on {options.Address} is already in use; pass --public-port or stop the other process"
                : $"port {options.Port} on {options.Address} is already in use; pass --port or stop the other process");
        }
        catch (IOException e) when (e.InnerException is SocketException socket)
        {
            return await FailAsync(app, $"cannot listen on {options.Address}:{options.Port}: {socket.Message}; pass --address with an address of this machine");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await app.DisposeAsync();
            return 0;
        }
        catch (Exception e)
        {
            return await FailAsync(app, $"could not start: {WharfCli.OneLine(e)}");
        }

        // The host owns SIGTERM / Ctrl-C from here on: it stops accepting, drains within
        // HostOptions.ShutdownTimeout, then stops the scheduler.
        await app.WaitForShutdownAsync(CancellationToken.None);
        await app.DisposeAsync();
        return 0;
    }

    private static async Task<int> FailAsync(WebApplication app, string message)
    {
        var exit = WharfCli.Fail(message);
        await app.DisposeAsync();
        return exit;
    }
}
