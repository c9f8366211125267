using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Wharf.Core.Metadata;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Webhooks;

/// <summary>
/// Delivery under failure: a receiver not listening, then answering 503, then recovering gets every event in
/// order per repository; one that always fails fills the dead-letter list, which the admin command lists and
/// redrives; hostile receivers (never answering, answering without end, redirecting) cost one bounded attempt
/// each and hold up nobody else; bad definitions are refused by the command.
/// </summary>
public sealed class WebhookDeliveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_receiver_down_then_failing_then_back_gets_every_event_in_order_per_repository()
    {
        var port = Ports.Free();
        var url = new Uri($"http://127.0.0.1:{port}/hook");
        await using var server = await WharfTestServer.StartAsync(WebhookSettings.Fast(("down", url, null)));
        using var client = server.CreateClient();
        foreach (var tag in new[] { "1", "2", "3" })
        {
            await Oci.PushImageAsync(client, "down/one", tag, layers: 1);
            await Oci.PushImageAsync(client, "down/two", tag, layers: 1);
        }

        // Nothing listens: attempts fail and are rescheduled; only each queue's head is tried.
        var store = server.GetService<IMetadataStore>();
        await PollAsync(
            async () => await store.Webhooks.ListPendingAsync("down", 100, Ct) is { Count: 6 } all && all.Count(d => d.Attempts >= 2) == 2,
            "six pending deliveries, each queue's head with two failed attempts");
        var pending = await store.Webhooks.ListPendingAsync("down", 100, Ct);
        Assert.Equal(6, pending.Count);
        Assert.All(pending.Where(d => d.Attempts > 0), d => Assert.Contains("refused", d.LastError!, StringComparison.OrdinalIgnoreCase));

        // Then it listens but answers 503 four times, then 200.
        var failures = 4;
        await using var receiver = await WebhookReceiver.StartAsync(port);
        receiver.Answer = _ => Task.FromResult(Interlocked.Decrement(ref failures) >= 0 ? 503 : 200);
        var delivered = await receiver.WaitForAsync(got => got.Select(r => r.EventId).Distinct().Count() == 6, TimeSpan.FromSeconds(30), "all six events");
        Assert.Equal(4, receiver.Requests.Count(r => r.Status == 503));
        Assert.All(delivered, r => Assert.True(r.Verifies(WebhookSettings.Secret + "down")));
        foreach (var repository in new[] { "down/one", "down/two" })
        {
            Assert.Equal(["1", "2", "3"], delivered.Where(r => r.Detail("repository-name") == repository).Select(r => r.Detail("image-tag")));
        }

        await PollAsync(async () => (await store.Webhooks.ListPendingAsync(null, 100, Ct)).Count == 0, "no pending delivery");
    }

    [Fact]
    public async Task A_receiver_that_always_fails_fills_the_dead_letter_list_which_the_admin_command_lists_and_redrives()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = async context =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("receiver broken", Ct);
            return 500;
        };
        var settings = WebhookSettings.Fast(("dead", receiver.Url("dead"), null));
        settings["Webhooks:RetryFor"] = "00:00:01";
        await using var server = await WharfTestServer.StartAsync(settings);
        using (var client = server.CreateClient())
        {
            await Oci.PushImageAsync(client, "dead/one", "1", layers: 1);
            await Oci.PushImageAsync(client, "dead/two", "1", layers: 1);
        }

        var store = server.GetService<IMetadataStore>();
        await PollAsync(async () => (await store.Webhooks.ListDeadLettersAsync(null, 100, Ct)).Count == 2, "two dead letters");
        Assert.Empty(await store.Webhooks.ListPendingAsync(null, 100, Ct));

        var listed = JsonDocument.Parse((await WharfAsync(server, null, "admin", "webhook", "dead-letters", "--json")).EnsureSuccess().StandardOutput).RootElement;
        Assert.Equal(2, listed.GetArrayLength());
        foreach (var letter in listed.EnumerateArray())
        {
            Assert.Equal("dead", letter.GetProperty("subscription").GetString());
            Assert.True(letter.GetProperty("attempts").GetInt32() >= 2);
            Assert.Equal(500, letter.GetProperty("lastStatus").GetInt32());
            Assert.Equal("HTTP 500: receiver broken", letter.GetProperty("lastError").GetString());
        }

        var lines = (await WharfAsync(server, null, "admin", "webhook", "dead-letters")).EnsureSuccess().StandardOutput;
        Assert.Contains(listed[0].GetProperty("eventId").GetString()!, lines, StringComparison.Ordinal);

        // The receiver is fixed; redriving needs to say which; --all sends both again.
        receiver.Answer = _ => Task.FromResult(204);
        var unsaid = await WharfAsync(server, null, "admin", "webhook", "redrive");
        Assert.Equal(2, unsaid.ExitCode);
        Assert.Equal("wharf: say which dead letters to redrive: --subscription NAME, --event-id ID, or --all", unsaid.StandardError.TrimEnd());
        Assert.Equal("2 dead letters moved back to pending", (await WharfAsync(server, null, "admin", "webhook", "redrive", "--all")).EnsureSuccess().StandardOutput.Trim());
        var delivered = await receiver.WaitForAsync(got => got.Count == 2, TimeSpan.FromSeconds(20), "both redriven events");
        Assert.Equal(listed.EnumerateArray().Select(l => l.GetProperty("eventId").GetString()).Order(), delivered.Select(r => r.EventId).Order());
        Assert.Empty(await store.Webhooks.ListDeadLettersAsync(null, 100, Ct));
    }

    [Fact]
    public async Task The_admin_command_adds_lists_and_removes_subscriptions_never_showing_the_secret_and_refuses_bad_ones()
    {
        await using var server = await WharfTestServer.StartAsync(WebhookSettings.Fast(("from-settings", new Uri("https://hooks.example.com/s"), null)));
        const string secret = "a-secret-of-the-admin-command-0123";
        var added = await WharfAsync(server, secret + "\n", "admin", "webhook", "add", "ci", "--url", "https://hooks.example.com/ci", "--pattern", """{"detail":{"action-type":["PUSH"]}}""");
        Assert.Equal("created webhook ci", added.EnsureSuccess().StandardOutput.Trim());

        var list = (await WharfAsync(server, null, "admin", "webhook", "list", "--json")).EnsureSuccess().StandardOutput;
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        Assert.DoesNotContain(WebhookSettings.Secret, list, StringComparison.Ordinal);
        var rows = JsonDocument.Parse(list).RootElement;
        Assert.Equal(["ci", "from-settings"], rows.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(("admin", true, "https://hooks.example.com/ci"), (rows[0].GetProperty("origin").GetString(), rows[0].GetProperty("enabled").GetBoolean(), rows[0].GetProperty("url").GetString()));
        Assert.Equal("settings", rows[1].GetProperty("origin").GetString());

        // The secret is sealed in the store, not in clear.
        var stored = (await server.GetService<IMetadataStore>().Webhooks.ListSubscriptionsAsync(Ct)).Single(s => s.Name == "ci");
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(stored.SealedSecret), StringComparison.Ordinal);

        var patternFile = Path.Combine(server.DataDirectory, "huge.json");
        await File.WriteAllTextAsync(patternFile, "{\"source\":[\"" + new string('a', 100_000) + "\"]}", Ct);
        var deepFile = Path.Combine(server.DataDirectory, "deep.json");
        await File.WriteAllTextAsync(deepFile, string.Concat(Enumerable.Repeat("{\"a\":", 500)) + "[1]" + new string('}', 500), Ct);
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--url", "ftp://hooks.example.com/x"], "the URL scheme 'ftp' is not taken"),
            (["--url", "file:///etc/passwd"], "the URL scheme 'file' is not taken"),
            (["--url", "not a url"], "is not an absolute URL"),
            (["--url", "https://user:pw@hooks.example.com/"], "carries a user name or password"),
            (["--url", "https://hooks.example.com/", "--pattern", """{"detail":{"repository-name":[{"wildcard":"a*"}]}}"""], "unknown operator \"wildcard\""),
            (["--url", "https://hooks.example.com/", "--pattern", "@" + patternFile], "larger than 64 KiB"),
            (["--url", "https://hooks.example.com/", "--pattern", "@" + deepFile], "nests deeper than 6 fields"),
        })
        {
            var refused = await WharfAsync(server, secret + "\n", ["admin", "webhook", "add", "bad", .. args]);
            Assert.True(refused.ExitCode == 2, refused.StandardError);
            Assert.Contains(message, refused.StandardError, StringComparison.Ordinal);
            Assert.Single(refused.StandardError.Trim().Split('\n'));
        }

        var noSecret = await WharfAsync(server, "\n", "admin", "webhook", "add", "x", "--url", "https://hooks.example.com/");
        Assert.Contains("no secret given", noSecret.StandardError, StringComparison.Ordinal);
        var shortSecret = await WharfAsync(server, "short\n", "admin", "webhook", "add", "x", "--url", "https://hooks.example.com/");
        Assert.Contains("16 to 1024 characters", shortSecret.StandardError, StringComparison.Ordinal);

        Assert.Equal("removed webhook ci", (await WharfAsync(server, null, "admin", "webhook", "remove", "ci")).EnsureSuccess().StandardOutput.Trim());
        var again = await WharfAsync(server, null, "admin", "webhook", "remove", "ci");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("there is no webhook subscription 'ci'", again.StandardError, StringComparison.Ordinal);

        // A bad subscription in settings stops the start with one line naming it.
        var start = await WharfCommand.RunAsync(["serve", "--port", "0", "--data-dir", server.DataDirectory],
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["WHARF__Auth"] = "Open", ["WHARF__Webhooks__Subscriptions__x__Url"] = "gopher://h/", ["WHARF__Webhooks__Subscriptions__x__Secret"] = secret });
        Assert.Equal(2, start.ExitCode);
        Assert.Contains("Webhooks:Subscriptions:x: webhook x: the URL scheme 'gopher' is not taken", start.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Receivers_that_never_answer_answer_without_end_or_redirect_cost_one_bounded_attempt_and_hold_up_no_one_else()
    {
        long endlessBytes = 0;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/hang":
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    return 0;
                case "/endless":
                    context.Response.StatusCode = 500;
                    var chunk = new byte[64 * 1024];
                    while (!context.RequestAborted.IsCancellationRequested && Interlocked.Read(ref endlessBytes) < 1L << 30)
                    {
                        // 64 MiB a second at most: read whole for the 4 s of the timeout, that would be far past the bound below.
                        await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                        Interlocked.Add(ref endlessBytes, chunk.Length);
                        await Task.Delay(1, context.RequestAborted);
                    }

                    return 0;
                case "/redirect":
                    context.Response.Headers.Location = receiver.Url("ok").AbsoluteUri;
                    return 302;
                default:
                    return 200;
            }
        };
        var settings = WebhookSettings.Fast(("hang", receiver.Url("hang"), null), ("endless", receiver.Url("endless"), null), ("redirect", receiver.Url("redirect"), null), ("ok", receiver.Url("ok"), null));
        settings["Webhooks:Timeout"] = "00:00:04";
        settings["Webhooks:RetryBaseDelay"] = "00:01:00";
        settings["Webhooks:MaxRetryDelay"] = "00:01:00";
        await using var server = await WharfTestServer.StartAsync(settings);
        using (var client = server.CreateClient())
        {
            await Oci.PushImageAsync(client, "hostile/app", "1", layers: 1);
        }

        var started = DateTime.UtcNow;
        var ok = (await receiver.WaitForAsync(got => got.Any(r => r.Path == "/ok"), TimeSpan.FromSeconds(15), "the event at the good receiver")).First(r => r.Path == "/ok");
        Assert.True(ok.Verifies(WebhookSettings.Secret + "ok"));

        // While the hanging receiver still holds its first attempt, a later event of another repository goes to the good one.
        using (var client = server.CreateClient())
        {
            await Oci.PushImageAsync(client, "hostile/other", "1", layers: 1);
        }

        await receiver.WaitForAsync(got => got.Count(r => r.Path == "/ok") == 2, TimeSpan.FromSeconds(15), "the second event at the good receiver");
        Assert.DoesNotContain(receiver.Requests, r => r.Path == "/hang");

        var store = server.GetService<IMetadataStore>();
        await PollAsync(async () => (await store.Webhooks.ListPendingAsync(null, 100, Ct)).Count(d => d.Attempts == 1 && d.OrderKey.EndsWith("/hostile/app", StringComparison.Ordinal)) == 3, "one failed attempt at each hostile receiver");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
        var pending = (await store.Webhooks.ListPendingAsync(null, 100, Ct)).Where(d => d.OrderKey.EndsWith("/hostile/app", StringComparison.Ordinal)).ToDictionary(d => d.Subscription);
        Assert.Equal("no answer within 4 s", pending["hang"].LastError);
        Assert.Equal(500, pending["endless"].LastStatus);
        Assert.True(pending["endless"].LastError!.Length <= 210, pending["endless"].LastError);
        Assert.Equal(302, pending["redirect"].LastStatus);

        // Not followed: the redirect's target got only the ok subscription's delivery; the endless answer was cut off early.
        Assert.True(receiver.Requests.Count(r => r.Path == "/ok") == 2, string.Join("; ", receiver.Requests.Select(r => $"{r.Path} {r.Status}")));
        Assert.True(Interlocked.Read(ref endlessBytes) < 32L << 20, $"{endlessBytes} bytes of the endless answer were sent");
    }

    private static Task<ProcessResult> WharfAsync(WharfTestServer server, string? input, params string[] args) =>
        WharfCommand.RunAsync([.. args, .. server.StoreArguments], TimeSpan.FromSeconds(60), standardInput: input);

    private static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within 30 s");
            await Task.Delay(50, Ct);
        }
    }
}
