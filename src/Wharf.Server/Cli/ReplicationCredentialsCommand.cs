using System.CommandLine;
using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Registries;
using Wharf.Server.Replication;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf replication credentials set|delete|list</c>: what this Wharf presents to a remote region
/// (<c>Replication:Regions</c>), sealed with the master key in the metadata store. The secret is read from
/// standard input, never from a flag (which the process list and shell history would show).
/// </summary>
internal static class ReplicationCredentialsCommand
{
    /// <summary>Adds <c>credentials</c> to the <c>replication</c> command, creating that command when no other part did.</summary>
    public static void AddTo(RootCommand root)
    {
        var replication = root.Subcommands.FirstOrDefault(c => c.Name == "replication");
        if (replication is null)
        {
            replication = new Command("replication", "Replication to other regions, accounts and sites.");
            root.Subcommands.Add(replication);
        }

        replication.Subcommands.Add(Create());
    }

    private static Command Create()
    {
        var region = new Argument<string>("region") { Description = "the remote region, as named in Replication:Regions" };
        var accessKeyId = new Option<string?>("--access-key-id") { Description = "kind wharf: an access key id of the destination account (the secret access key is read from standard input)" };
        var username = new Option<string?>("--username") { Description = "kind oci: the user name (the password or token is read from standard input)" };

        var set = new Command("set", "Store the credentials for a remote region, sealed; the secret is read from standard input (one line). Running servers use them from their next copy.")
        {
            region,
            accessKeyId,
            username,
        };
        set.SetAction((parse, ct) => RunAsync(parse, async (app, credentials) =>
        {
            var name = parse.GetValue(region)!;
            var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value.Replication;
            if (!options.Regions.TryGetValue(name, out var remote))
            {
                return Fail($"region '{name}' is not in Replication:Regions; configure its Endpoint and Kind first");
            }

            var (identity, flag) = remote.ParsedKind == RemoteRegionKind.Wharf ? (parse.GetValue(accessKeyId), "--access-key-id") : (parse.GetValue(username), "--username");
            if (string.IsNullOrWhiteSpace(identity))
            {
                return Fail($"region '{name}' is kind {remote.ParsedKind.ToString().ToLowerInvariant()}: pass {flag}");
            }

            var secret = (await Console.In.ReadLineAsync(ct))?.Trim();
            if (string.IsNullOrEmpty(secret))
            {
                return Fail("no secret on standard input; pipe it in, e.g. wharf replication credentials set eu-west-1 --access-key-id AKIA… < secret-file");
            }

            await credentials.SetAsync(name, new RemoteCredential(identity, secret), ct);
            Console.WriteLine($"stored credentials for region {name} ({identity})");
            return 0;
        }, ct));

        var delete = new Command("delete", "Remove the credentials of a remote region.") { region };
        delete.SetAction((parse, ct) => RunAsync(parse, async (_, credentials) =>
            await credentials.DeleteAsync(parse.GetValue(region)!, ct) ? 0 : Fail($"no credentials are stored for region '{parse.GetValue(region)}'"), ct));

        var list = new Command("list", "List the remote regions that have credentials (never the secrets).") { CliOptions.Json };
        list.SetAction((parse, ct) => RunAsync(parse, async (_, credentials) =>
        {
            var regions = await credentials.ListAsync(ct);
            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(new RegionsResult(regions));
                return 0;
            }

            foreach (var name in regions)
            {
                Console.WriteLine(name);
            }

            return 0;
        }, ct));

        return new Command("credentials", "The credentials this Wharf presents to remote regions (another Wharf, an OCI registry), sealed in the metadata store.")
        {
            set,
            delete,
            list,
        };
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<WebApplication, RemoteCredentials, Task<int>> action, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            await app.Services.GetRequiredService<IMetadataStore>().MigrateAsync(cancellationToken);
            return await action(app, app.Services.GetRequiredService<RemoteCredentials>());
        }
    }

    private static int Fail(string message)
    {
        WharfCli.Fail(message);
        return 1;
    }
}
