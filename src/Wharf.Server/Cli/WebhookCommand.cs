using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Core.Webhooks;
using Wharf.Server.Webhooks;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf admin webhook add|list|remove|dead-letters|redrive</c>: subscriptions, the dead-letter list and
/// redrive, straight on the configured metadata store (works beside running servers, which pick the change up
/// at their next run). The secret is read from standard input or a file, never from a flag, and never printed.
/// </summary>
internal static class WebhookCommand
{
    private const int ListLimit = 1000;

    /// <summary>Adds <c>webhook</c> and its subcommands to <paramref name="admin"/>.</summary>
    public static void AddTo(Command admin)
    {
        var name = new Argument<string>("name") { Description = "the subscription's name (letters, digits, '.', '_' and '-')" };
        var url = new Option<string>("--url") { Required = true, Description = "the http or https URL events are POSTed to" };
        var pattern = new Option<string?>("--pattern") { Description = "the EventBridge event pattern (JSON), or @path to read it from a file; default every event" };
        var secretFile = new Option<string?>("--secret-file") { Description = "read the signing secret from this file (default: one line on standard input)" };
        var disabled = new Option<bool>("--disabled") { Description = "create it disabled: no deliveries until added again without this flag" };
        var json = new Option<bool>("--json") { Description = "print JSON rather than lines" };
        var subscription = new Option<string?>("--subscription") { Description = "only this subscription's" };
        var eventId = new Option<string?>("--event-id") { Description = "only the dead letter of this event id" };

        var add = new Command(
            "add",
            "Create or replace a webhook subscription. The signing secret (16 to 1024 characters) is read from standard input or --secret-file, sealed with the master key; it is never shown again.")
        {
            name,
            url,
            pattern,
            secretFile,
            disabled,
        };
        add.SetAction((parse, ct) => RunAsync(parse, async (subscriptions, _) =>
        {
            var secret = await ReadSecretAsync(parse.GetValue(secretFile), ct);
            if (secret is null)
            {
                return WharfCli.ExitInvalid;
            }

            var patternText = parse.GetValue(pattern);
            if (patternText is not null && patternText.StartsWith('@'))
            {
                if (await ReadFileAsync(patternText[1..], "pattern", ct) is not { } file)
                {
                    return WharfCli.ExitInvalid;
                }

                patternText = file;
            }

            try
            {
                var created = await subscriptions.PutAsync(parse.GetValue(name)!, parse.GetValue(url), secret, patternText, !parse.GetValue(disabled), WebhookOrigin.Admin, ct);
                Console.WriteLine($"{(created ? "created" : "replaced")} webhook {parse.GetValue(name)}");
                return 0;
            }
            catch (WebhookDefinitionException e)
            {
                return WharfCli.Fail(e.Message);
            }
        }, ct));

        var list = new Command("list", "List the webhook subscriptions: name, URL, enabled, origin (settings or admin) and pattern; never the secret.") { json };
        list.SetAction((parse, ct) => RunAsync(parse, async (_, store) =>
        {
            var all = await store.Webhooks.ListSubscriptionsAsync(ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    [.. all.Select(s => new Dictionary<string, object>
                    {
                        ["name"] = s.Name, ["url"] = s.Url.AbsoluteUri, ["enabled"] = s.Enabled, ["origin"] = Origin(s.Origin), ["pattern"] = s.Pattern,
                    })],
                    Errors.ServerJsonContext.Default.ListDictionaryStringObject));
                return 0;
            }

            foreach (var s in all)
            {
                Console.WriteLine($"{s.Name}\t{s.Url.AbsoluteUri}\t{(s.Enabled ? "enabled" : "disabled")}\t{Origin(s.Origin)}\t{s.Pattern}");
            }

            return 0;
        }, ct));

        var remove = new Command("remove", "Delete a webhook subscription with its pending deliveries and dead letters (one defined in settings comes back at the next start).") { name };
        remove.SetAction((parse, ct) => RunAsync(parse, async (_, store) =>
        {
            if (!await store.Webhooks.DeleteSubscriptionAsync(parse.GetValue(name)!, ct))
            {
                return WharfCli.Fail($"there is no webhook subscription '{parse.GetValue(name)}'; wharf admin webhook list shows them");
            }

            Console.WriteLine($"removed webhook {parse.GetValue(name)}");
            return 0;
        }, ct));

        var deadLetters = new Command("dead-letters", "List the deliveries given up on: subscription, event id, attempts, when it was given up, last status and error (--json adds the first attempt).") { subscription, json };
        deadLetters.SetAction((parse, ct) => RunAsync(parse, async (_, store) =>
        {
            var rows = await store.Webhooks.ListDeadLettersAsync(parse.GetValue(subscription), ListLimit, ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    [.. rows.Select(r => new Dictionary<string, object?>
                    {
                        ["subscription"] = r.Subscription, ["eventId"] = r.EventId, ["attempts"] = r.Attempts,
                        ["firstAttemptAt"] = r.FirstAttemptAt?.ToString("O", CultureInfo.InvariantCulture), ["deadAt"] = r.DeadAt?.ToString("O", CultureInfo.InvariantCulture),
                        ["lastStatus"] = r.LastStatus, ["lastError"] = r.LastError,
                    })],
                    Errors.ServerJsonContext.Default.ListDictionaryStringObject));
                return 0;
            }

            foreach (var r in rows)
            {
                Console.WriteLine(string.Join('\t', r.Subscription, r.EventId, $"{r.Attempts} attempts", r.DeadAt?.ToString("O", CultureInfo.InvariantCulture) ?? "-", r.LastStatus?.ToString(CultureInfo.InvariantCulture) ?? "-", r.LastError ?? "-"));
            }

            return 0;
        }, ct));

        var all = new Option<bool>("--all") { Description = "every dead letter of every subscription" };
        var redrive = new Command("redrive", "Move dead letters back to pending, their attempts reset: those of --subscription, the one of --event-id, or with --all every one.") { subscription, eventId, all };
        redrive.SetAction((parse, ct) => RunAsync(parse, async (_, store) =>
        {
            if (parse.GetValue(subscription) is null && parse.GetValue(eventId) is null && !parse.GetValue(all))
            {
                return WharfCli.Fail("say which dead letters to redrive: --subscription NAME, --event-id ID, or --all");
            }

            var count = await store.Webhooks.RedriveAsync(parse.GetValue(subscription), parse.GetValue(eventId), DateTimeOffset.UtcNow, ct);
            Console.WriteLine($"{count} dead letters moved back to pending");
            return 0;
        }, ct));

        admin.Subcommands.Add(new Command("webhook", "Webhook subscriptions (events POSTed to a URL, signed), their dead-letter list and redrive.")
        {
            add,
            list,
            remove,
            deadLetters,
            redrive,
        });
    }

    private static string Origin(WebhookOrigin origin) => origin == WebhookOrigin.Settings ? "settings" : "admin";

    private static async Task<string?> ReadSecretAsync(string? file, CancellationToken cancellationToken)
    {
        string? text;
        if (file is not null)
        {
            text = await ReadFileAsync(file, "secret", cancellationToken);
            if (text is null)
            {
                return null;
            }
        }
        else
        {
            text = Console.IsInputRedirected ? await Console.In.ReadLineAsync(cancellationToken) : null;
        }

        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            WharfCli.Fail("no secret given; pipe one line into standard input (e.g. openssl rand -hex 32 | wharf admin webhook add …) or pass --secret-file");
            return null;
        }

        return text;
    }

    private static async Task<string?> ReadFileAsync(string path, string what, CancellationToken cancellationToken)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > 64 * 1024)
            {
                WharfCli.Fail($"the {what} file '{path}' is larger than 64 KiB");
                return null;
            }

            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            WharfCli.Fail($"cannot read the {what} file '{path}': {WharfCli.OneLine(e)}");
            return null;
        }
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<WebhookSubscriptions, IMetadataStore, Task<int>> action, CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            return await action(app.Services.GetRequiredService<WebhookSubscriptions>(), store);
        }
    }
}
