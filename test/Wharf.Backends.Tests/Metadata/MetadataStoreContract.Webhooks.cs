using Wharf.Core.Webhooks;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Webhooks: subscriptions replaced by name, deliveries armed with the feed's cursor in one transaction (and
/// once per subscription and event), the head of each repository's queue due alone, failures rescheduled or
/// dead-lettered, and dead letters redriven.
/// </summary>
public abstract partial class MetadataStoreContract
{
    private static WebhookSubscription Subscription(string name, bool enabled = true, WebhookOrigin origin = WebhookOrigin.Admin) =>
        new(name, new Uri($"https://hooks.example.com/{name}"), [9, 8, 7], """{"source":["aws.ecr"]}""", enabled, origin, T0);

    private static WebhookArm Arm(string subscription, string eventId, string key, DateTimeOffset? due = null) =>
        new(subscription, eventId, key, $"{{\"id\":\"{eventId}\"}}", due ?? T0);

    [Fact]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.PutSubscriptionAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.ListSubscriptionsAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.DeleteSubscriptionAsync))]
    public async Task Webhook_subscriptions_are_replaced_by_name_listed_by_name_and_deleted_with_their_deliveries()
    {
        await using var store = await CreateStoreAsync();
        Assert.True(await store.Webhooks.PutSubscriptionAsync(Subscription("b"), Ct));
        Assert.True(await store.Webhooks.PutSubscriptionAsync(Subscription("a", origin: WebhookOrigin.Settings), Ct));
        Assert.False(await store.Webhooks.PutSubscriptionAsync(Subscription("b", enabled: false) with { Url = new Uri("http://other:8080/x"), Pattern = "{}" }, Ct));

        var all = await store.Webhooks.ListSubscriptionsAsync(Ct);
        Assert.Equal(["a", "b"], all.Select(s => s.Name));
        Assert.Equal((WebhookOrigin.Settings, true), (all[0].Origin, all[0].Enabled));
        Assert.Equal(("http://other:8080/x", false, "{}", WebhookOrigin.Admin, T0), (all[1].Url.AbsoluteUri, all[1].Enabled, all[1].Pattern, all[1].Origin, all[1].ChangedAt));
        Assert.Equal(new byte[] { 9, 8, 7 }, all[1].SealedSecret);

        await store.Webhooks.ArmAsync([Arm("a", "e1", "k"), Arm("b", "e1", "k")], "webhooks", 1, Ct);
        Assert.True(await store.Webhooks.DeleteSubscriptionAsync("a", Ct));
        Assert.False(await store.Webhooks.DeleteSubscriptionAsync("a", Ct));
        Assert.Equal(["b"], (await store.Webhooks.ListSubscriptionsAsync(Ct)).Select(s => s.Name));
        Assert.Equal(["b"], (await store.Webhooks.ListPendingAsync(null, 100, Ct)).Select(d => d.Subscription));
    }

    [Fact]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.ArmAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.ListPendingAsync))]
    public async Task Arming_records_deliveries_once_per_subscription_and_event_and_moves_the_cursor_with_them()
    {
        await using var store = await CreateStoreAsync();
        await store.Webhooks.PutSubscriptionAsync(Subscription("s"), Ct);
        await store.Webhooks.ArmAsync([Arm("s", "e1", "r1"), Arm("s", "e2", "r1"), Arm("gone", "e3", "r1")], "webhooks", 7, Ct);
        Assert.Equal(7, await store.Events.GetCursorAsync("webhooks", Ct));

        // Armed again (a feed that ran twice over the same events): nothing doubles; the cursor never moves back.
        await store.Webhooks.ArmAsync([Arm("s", "e2", "r1"), Arm("s", "e4", "r2")], "webhooks", 5, Ct);
        Assert.Equal(7, await store.Events.GetCursorAsync("webhooks", Ct));
        var pending = await store.Webhooks.ListPendingAsync(null, 100, Ct);
        Assert.Equal(["e1", "e2", "e4"], pending.Select(d => d.EventId));
        Assert.Equal(("s", "r1", "{\"id\":\"e1\"}", 0, (DateTimeOffset?)null, T0), (pending[0].Subscription, pending[0].OrderKey, pending[0].Payload, pending[0].Attempts, pending[0].FirstAttemptAt, pending[0].NextAttemptAt));
        Assert.Equal(["e1"], (await store.Webhooks.ListPendingAsync("s", 1, Ct)).Select(d => d.EventId));
        Assert.Empty(await store.Webhooks.ListPendingAsync("other", 100, Ct));
    }

    [Fact]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.ListDueAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.CompleteAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.RecordFailureAsync))]
    public async Task Only_the_head_of_each_queue_is_due_and_a_failure_holds_its_queue_until_it_is_delivered_or_dead()
    {
        await using var store = await CreateStoreAsync();
        await store.Webhooks.PutSubscriptionAsync(Subscription("s"), Ct);
        await store.Webhooks.PutSubscriptionAsync(Subscription("t"), Ct);
        await store.Webhooks.PutSubscriptionAsync(Subscription("off", enabled: false), Ct);
        await store.Webhooks.ArmAsync(
            [Arm("s", "a1", "repo-a"), Arm("s", "b1", "repo-b"), Arm("s", "a2", "repo-a"), Arm("t", "a1", "repo-a"), Arm("off", "a1", "repo-a"), Arm("s", "c1", "repo-c", T0.AddMinutes(1))],
            "webhooks",
            1,
            Ct);

        // One head per subscription and repository; a later row waits; a disabled subscription and a future row are not due.
        var due = await store.Webhooks.ListDueAsync(T0, 100, Ct);
        Assert.Equal([("s", "a1"), ("s", "b1"), ("t", "a1")], due.Select(d => (d.Subscription, d.EventId)));
        Assert.Equal(2, (await store.Webhooks.ListDueAsync(T0, 2, Ct)).Count);

        // a1 fails: repo-a's queue of s holds (a2 is not due) until its next attempt.
        var a1 = due[0];
        await store.Webhooks.RecordFailureAsync(a1.Id, new WebhookFailure(1, T0, 503, "HTTP 503", T0.AddSeconds(10), T0), Ct);
        Assert.Equal(["b1", "a1"], (await store.Webhooks.ListDueAsync(T0.AddSeconds(5), 100, Ct)).Select(d => d.EventId));
        var retried = (await store.Webhooks.ListDueAsync(T0.AddSeconds(10), 100, Ct))[0];
        Assert.Equal((a1.Id, 1, (DateTimeOffset?)T0, (int?)503, "HTTP 503", (DateTimeOffset?)null), (retried.Id, retried.Attempts, retried.FirstAttemptAt, retried.LastStatus, retried.LastError, retried.DeadAt));

        // Delivered: the next of the queue is due. Completing twice is a no-op.
        Assert.True(await store.Webhooks.CompleteAsync(a1.Id, Ct));
        Assert.False(await store.Webhooks.CompleteAsync(a1.Id, Ct));
        Assert.Contains("a2", (await store.Webhooks.ListDueAsync(T0, 100, Ct)).Where(d => d.Subscription == "s").Select(d => d.EventId));

        // Dead: out of the queue (the next one is due) and into the dead letters, with the last failure.
        var b1 = (await store.Webhooks.ListDueAsync(T0, 100, Ct)).Single(d => d.EventId == "b1");
        await store.Webhooks.RecordFailureAsync(b1.Id, new WebhookFailure(4, T0, null, "no answer", null, T0.AddHours(1)), Ct);
        Assert.DoesNotContain("b1", (await store.Webhooks.ListDueAsync(T0.AddDays(1), 100, Ct)).Select(d => d.EventId));
        var dead = Assert.Single(await store.Webhooks.ListDeadLettersAsync(null, 100, Ct));
        Assert.Equal(("b1", 4, (int?)null, "no answer", (DateTimeOffset?)T0.AddHours(1)), (dead.EventId, dead.Attempts, dead.LastStatus, dead.LastError, dead.DeadAt));
        Assert.False(await store.Webhooks.CompleteAsync(dead.Id, Ct));
    }

    [Fact]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.ListDeadLettersAsync))]
    [Covers(typeof(IWebhookStore), nameof(IWebhookStore.RedriveAsync))]
    public async Task Dead_letters_are_listed_by_subscription_and_redriven_by_subscription_event_or_all_with_attempts_reset()
    {
        await using var store = await CreateStoreAsync();
        await store.Webhooks.PutSubscriptionAsync(Subscription("s"), Ct);
        await store.Webhooks.PutSubscriptionAsync(Subscription("t"), Ct);
        await store.Webhooks.ArmAsync([Arm("s", "e1", "r"), Arm("s", "e2", "q"), Arm("t", "e1", "r")], "webhooks", 1, Ct);
        foreach (var row in await store.Webhooks.ListDueAsync(T0, 100, Ct))
        {
            await store.Webhooks.RecordFailureAsync(row.Id, new WebhookFailure(3, T0, 500, "HTTP 500", null, T0.AddHours(24)), Ct);
        }

        Assert.Equal(3, (await store.Webhooks.ListDeadLettersAsync(null, 100, Ct)).Count);
        Assert.Equal(["e1", "e2"], (await store.Webhooks.ListDeadLettersAsync("s", 100, Ct)).Select(d => d.EventId));
        Assert.Empty(await store.Webhooks.ListPendingAsync(null, 100, Ct));

        Assert.Equal(1, await store.Webhooks.RedriveAsync("s", "e2", T0.AddDays(2), Ct));
        var back = Assert.Single(await store.Webhooks.ListPendingAsync(null, 100, Ct));
        Assert.Equal(("e2", 0, (DateTimeOffset?)null, T0.AddDays(2), (DateTimeOffset?)null), (back.EventId, back.Attempts, back.FirstAttemptAt, back.NextAttemptAt, back.DeadAt));
        Assert.Equal(1, await store.Webhooks.RedriveAsync("t", null, T0.AddDays(2), Ct));
        Assert.Equal(1, await store.Webhooks.RedriveAsync(null, null, T0.AddDays(2), Ct));
        Assert.Equal(0, await store.Webhooks.RedriveAsync(null, null, T0.AddDays(2), Ct));
        Assert.Empty(await store.Webhooks.ListDeadLettersAsync(null, 100, Ct));
        Assert.Equal(3, (await store.Webhooks.ListDueAsync(T0.AddDays(2), 100, Ct)).Count);
    }
}
