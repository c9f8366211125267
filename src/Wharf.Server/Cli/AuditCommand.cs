using System.CommandLine;
using System.Globalization;
using System.Text;
using Wharf.Core.Audit;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Server.Cli;

/// <summary><c>wharf audit</c>: the audit trail, filtered by time, principal, event name and repository, read from the metadata store.</summary>
internal static class AuditCommand
{
    private const int MaxLimit = 100_000;

    private static readonly Option<string?> Since = new("--since")
    {
        Description = "Oldest event shown: an ISO 8601 time (2025-01-31T12:00:00Z) or a duration back from now (30m, 12h, 7d). Default: 24h.",
    };

    private static readonly Option<string?> Until = new("--until")
    {
        Description = "Newest event shown: an ISO 8601 time or a duration back from now. Default: now.",
    };

    private static readonly Option<string?> Principal = new("--principal")
    {
        Description = "Only calls by this principal: an ARN (arn:aws:iam::123456789012:user/ci) or a user name (root, ci, a role session's name).",
    };

    private static readonly Option<string?> EventName = new("--event-name")
    {
        Description = "Only this event (an API action such as CreateRepository, or PutImage for a push).",
    };

    private static readonly Option<string?> Repository = new("--repository")
    {
        Description = "Only calls on this repository: its name, or its ARN.",
    };

    private static readonly Option<string?> Account = new("--account")
    {
        Description = "Only this account's trail (12 digits). Default: every account's.",
    };

    private static readonly Option<int> Limit = new("--limit")
    {
        Description = "At most this many events, newest first (1 to 100000).",
        DefaultValueFactory = _ => 100,
    };

    private static readonly Option<bool> JsonLines = new("--json")
    {
        Description = "Print each event as one line of CloudTrail's JSON record instead of a table.",
    };

    public static Command Create()
    {
        var audit = new Command(
            "audit",
            "Print the audit trail: API calls and /v2 writes, deletes and refusals, newest first, read from the metadata store (safe while the server runs). Exits 2 on a bad filter.");
        foreach (var option in new Option[] { Since, Until, Principal, EventName, Repository, Account, Limit, JsonLines })
        {
            audit.Options.Add(option);
        }

        audit.SetAction(RunAsync);
        return audit;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (ParseTime(parse.GetValue(Since), now, now - TimeSpan.FromHours(24), "--since") is not { } since
            || ParseTime(parse.GetValue(Until), now, now, "--until") is not { } until)
        {
            return WharfCli.ExitInvalid;
        }

        if (since > until)
        {
            return WharfCli.Fail($"--since ({since:O}) is after --until ({until:O}); give an earlier --since");
        }

        var limit = parse.GetValue(Limit);
        if (limit is < 1 or > MaxLimit)
        {
            return WharfCli.Fail($"--limit is {limit}; give a number from 1 to {MaxLimit}");
        }

        string? account = null;
        if (parse.GetValue(Account) is { } accountText)
        {
            if (!AccountId.TryParse(accountText, out var parsed))
            {
                return WharfCli.Fail($"--account '{accountText}' is not a 12-digit account id");
            }

            account = parsed.Value;
        }

        var filters = new List<AuditFilter>();
        if (parse.GetValue(Principal) is { Length: > 0 } principal)
        {
            filters.Add(new AuditFilter(principal.StartsWith("arn:", StringComparison.Ordinal) ? AuditAttribute.PrincipalArn : AuditAttribute.Username, principal));
        }

        if (parse.GetValue(EventName) is { Length: > 0 } eventName)
        {
            filters.Add(new AuditFilter(AuditAttribute.EventName, eventName));
        }

        if (parse.GetValue(Repository) is { Length: > 0 } repository)
        {
            if (repository.StartsWith("arn:", StringComparison.Ordinal))
            {
                if (RepositoryKey.FromArn(repository) is not { } key)
                {
                    return WharfCli.Fail($"--repository '{repository}' is not a repository ARN; give a repository's name or its ARN");
                }

                filters.Add(new AuditFilter(AuditAttribute.ResourceName, key.Name.Value));
                account ??= key.Registry.Account.Value;
            }
            else
            {
                filters.Add(new AuditFilter(AuditAttribute.ResourceName, repository));
            }
        }

        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            var json = parse.GetValue(JsonLines);
            var output = new StringBuilder();
            if (!json)
            {
                output.AppendLine("TIME                  ACCOUNT       SOURCE                        EVENT                         USER              SOURCE IP        ERROR");
            }

            var shown = 0;
            AuditCursor? after = null;
            do
            {
                var page = await store.Audit.LookupAsync(new AuditQuery(account, since, until, filters, Math.Min(500, limit - shown), after), cancellationToken);
                foreach (var evt in page.Events)
                {
                    if (json)
                    {
                        output.Append(evt.Document).Append('\n');
                    }
                    else
                    {
                        output.AppendLine(Row(evt));
                    }
                }

                shown += page.Events.Count;
                after = page.Next;
                await Console.Out.WriteAsync(output.ToString());
                output.Clear();
            }
            while (after is not null && shown < limit);

            if (!json && shown == 0)
            {
                await Console.Error.WriteLineAsync("no events match");
            }

            return 0;
        }
    }

    private static string Row(AuditEvent evt)
    {
        var source = SourceIp(evt.Document);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{evt.Time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}  {Pad(evt.Account.Length == 0 ? "-" : evt.Account, 12)}  {Pad(evt.EventSource, 28)}  {Pad(evt.EventName, 28)}  {Pad(evt.Username ?? "-", 16)}  {Pad(source, 15)}  {evt.ErrorCode ?? "-"}");
    }

    private static string SourceIp(string document)
    {
        try
        {
            using var parsed = System.Text.Json.JsonDocument.Parse(document);
            return parsed.RootElement.TryGetProperty("sourceIPAddress", out var ip) ? ip.GetString() ?? "-" : "-";
        }
        catch (System.Text.Json.JsonException)
        {
            return "-";
        }
    }

    private static string Pad(string text, int width)
    {
        // Control characters from a hostile user agent or name never reach the terminal.
        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length >= width ? clean : clean.PadRight(width);
    }

    /// <summary>An ISO time, or a duration back from <paramref name="now"/> (<c>90s</c>, <c>15m</c>, <c>1h</c>, <c>7d</c>, <c>2w</c>); null after printing the problem.</summary>
    internal static DateTimeOffset? ParseTime(string? text, DateTimeOffset now, DateTimeOffset fallback, string flag)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (text.Length is > 1 and <= 12 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? unit = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(1),
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                'd' => TimeSpan.FromDays(1),
                'w' => TimeSpan.FromDays(7),
                _ => null,
            };
            if (unit is { } u && amount <= 100 * 365 * TimeSpan.TicksPerDay / u.Ticks)
            {
                return now - (u * amount);
            }
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        WharfCli.Fail($"{flag} '{text}' is neither an ISO 8601 time (2025-01-31T12:00:00Z) nor a duration such as 30m, 12h or 7d");
        return null;
    }
}
