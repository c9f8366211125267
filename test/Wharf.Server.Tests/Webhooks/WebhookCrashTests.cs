using Microsoft.AspNetCore.Http;
using Wharf.Core.Metadata;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Webhooks;

/// <summary>
/// At least once across a crash, and once across nodes: a <c>wharf</c> process killed with SIGKILL while a slow
/// receiver holds a delivery loses no event (the restarted process sends every one); two nodes on one
/// PostgreSQL deliver each event once.
/// </summary>
public sealed class WebhookCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_kill_9_mid_delivery_loses_no_event_the_restarted_process_delivers_every_one()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var slow = true;
        receiver.Answer = async context =>
        {
            if (Volatile.Read(ref slow))
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            return 200;
        };
        var settings = WebhookSettings.Fast(("crash", receiver.Url("crash"), null));
        settings["Webhooks:Timeout"] = "00:01:00";
        settings["Jobs:Lease"] = "00:00:03";
        var environment = WebhookSettings.Environment(settings);
        var dir = Path.Combine(Path.GetTempPath(), "wharf-webhook-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using (var first = await WharfProcess.StartAsync(dir, environment))
            {
                using var client = new HttpClient { BaseAddress = first.BaseAddress };
                foreach (var repository in new[] { "crash/one", "crash/two" })
                {
                    await Oci.PushImageAsync(client, repository, "1", layers: 1);
                    await Oci.PushImageAsync(client, repository, "2", layers: 1);
                }

                // Both queues' heads are at the receiver, unanswered: kill the process there.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (receiver.Arrived < 2)
                {
                    Assert.True(DateTime.UtcNow < deadline, "the deliveries never reached the receiver");
                    await Task.Delay(50, Ct);
                }

                first.Kill();
            }

            Volatile.Write(ref slow, false);
            await using var second = await WharfProcess.StartAsync(dir, environment);
            var delivered = await receiver.WaitForAsync(got => got.Select(r => r.EventId).Distinct().Count() == 4, TimeSpan.FromSeconds(40), "all four events after the restart");

            // Every event the log recorded, signed, and in order per repository.
            await using var store = new SqliteMetadataStore(Path.Combine(dir, "wharf.db"));
            var recorded = (await store.Events.ListAsync(0, 100, DateTimeOffset.UtcNow, Ct)).Select(e => System.Text.Json.JsonDocument.Parse(e.Payload).RootElement.GetProperty("id").GetString()).ToList();
            Assert.Equal(recorded.Order(), delivered.Select(r => r.EventId).Distinct().Order());
            Assert.All(delivered, r => Assert.True(r.Verifies(WebhookSettings.Secret + "crash")));
            foreach (var repository in new[] { "crash/one", "crash/two" })
            {
                Assert.Equal(["1", "2"], delivered.Where(r => r.Detail("repository-name") == repository).Select(r => r.Detail("image-tag")).Distinct());
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Two_nodes_on_one_PostgreSQL_deliver_each_event_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = WebhookSettings.Fast(("pair", receiver.Url("pair"), null));

        // Both nodes open the subscription's sealed secret: they share the master key, as a cluster must.
        var key = Path.Combine(Path.GetTempPath(), "wharf-webhook-key-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(key, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), Ct);
        settings["Identity:MasterKeyFile"] = key;
        try
        {
            await using var a = await WharfTestServer.StartOnPostgresAsync(settings);
            await using var b = await a.StartPeerAsync(settings);
            using (var clientA = a.CreateClient())
            using (var clientB = b.CreateClient())
            {
                for (var i = 0; i < 3; i++)
                {
                    await Oci.PushImageAsync(clientA, "pair/a", $"{i}", layers: 1);
                    await Oci.PushImageAsync(clientB, "pair/b", $"{i}", layers: 1);
                }
            }

            await receiver.WaitForAsync(got => got.Select(r => r.EventId).Distinct().Count() == 6, TimeSpan.FromSeconds(30), "the six events");
            var store = a.GetService<IMetadataStore>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((await store.Webhooks.ListPendingAsync(null, 100, Ct)).Count > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "deliveries still pending");
                await Task.Delay(50, Ct);
            }

            Assert.Equal(6, receiver.Requests.Count);
            Assert.All(receiver.Requests, r => Assert.True(r.Verifies(WebhookSettings.Secret + "pair")));
        }
        finally
        {
            File.Delete(key);
        }
    }
}
