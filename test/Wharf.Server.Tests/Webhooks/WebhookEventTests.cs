using Wharf.Server.Jobs;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Webhooks;

/// <summary>
/// The events of real clients reach a real receiver as EventBridge's JSON, signed: a podman and a skopeo push,
/// a delete through the AWS CLI, a scan on push, and a lifecycle expiration; a subscription whose pattern is a
/// repository-name prefix gets only its repositories' events.
/// </summary>
public sealed class WebhookEventTests
{
    private const string TeamPattern = """{"source":["aws.ecr"],"detail":{"repository-name":[{"prefix":"team/"}]}}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Push_delete_scan_and_lifecycle_events_arrive_signed_as_EventBridge_events_and_a_prefix_pattern_gets_only_its_repositories()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = WebhookSettings.Fast(("all", receiver.Url("all"), null), ("team", receiver.Url("team"), TeamPattern));
        settings["Scanning:Interval"] = "00:00:01";
        await using var server = await WharfTestServer.StartAsync(settings);
        var tools = ContainerTools.Instance;
        Task<ProcessResult> Aws(params string[] args) => AwsClients.CliAsync(server.BaseAddress, "us-east-1", args);

        (await Aws("ecr", "create-repository", "--repository-name", "team/app", "--image-scanning-configuration", "scanOnPush=true")).EnsureSuccess();
        await TestImages.BusyboxArchiveAsync();
        (await tools.PodmanAsync("push", "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{server.HostAndPort}/team/app:1")).EnsureSuccess();
        var image = await TestImages.MultiLayerAsync();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/other/app:v1")).EnsureSuccess();
        (await Aws("ecr", "batch-delete-image", "--repository-name", "other/app", "--image-ids", "imageTag=v1")).EnsureSuccess();

        static bool Has(IEnumerable<ReceivedWebhook> got, string path, string type, string repository, string? action = null) =>
            got.Any(r => r.Path == path && r.Json.GetProperty("detail-type").GetString() == type && r.Detail("repository-name") == repository
                && (action is null || r.Detail("action-type") == action));

        // The scan on push completes (the scan job runs every second) before the image is expired below.
        await receiver.WaitForAsync(got => Has(got, "/team", "ECR Image Scan", "team/app"), TimeSpan.FromSeconds(60), "the scan");

        // A second image in team/app, then a policy keeping one: the lifecycle job expires the first.
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/team/app:2")).EnsureSuccess();
        (await Aws("ecr", "put-lifecycle-policy", "--repository-name", "team/app", "--lifecycle-policy-text",
            """{"rules":[{"rulePriority":1,"description":"keep one","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""")).EnsureSuccess();
        Assert.True(await server.GetService<JobScheduler>().RunOnceAsync(server.GetService<IEnumerable<IBackgroundJob>>().OfType<LifecycleJob>().Single(), Ct));

        var delivered = await receiver.WaitForAsync(
            got => Has(got, "/all", "ECR Image Action", "other/app", "DELETE")
                && Has(got, "/all", "ECR Image Scan", "team/app")
                && got.Count(r => r.Path == "/all" && r.Json.GetProperty("detail-type").GetString() == "ECR Image Action" && r.Detail("repository-name") == "team/app") >= 3
                && Has(got, "/team", "ECR Image Scan", "team/app")
                && got.Count(r => r.Path == "/team" && r.Json.GetProperty("detail-type").GetString() == "ECR Image Action") >= 3,
            TimeSpan.FromSeconds(60),
            "the pushes, the delete, the scan and the expiration");

        foreach (var r in delivered)
        {
            Assert.True(r.Verifies(WebhookSettings.Secret + r.Path.TrimStart('/')), $"signature of {r.EventId} to {r.Path}");
            Assert.False(r.Verifies(WebhookSettings.Secret + "other"));
            Assert.Equal("application/json", r.ContentType);
            Assert.Equal(r.EventId, r.Id);
            var json = r.Json;
            Assert.Equal(("0", "aws.ecr", "123456789012", "us-east-1"), (json.GetProperty("version").GetString(), json.GetProperty("source").GetString(), json.GetProperty("account").GetString(), json.GetProperty("region").GetString()));
            Assert.True(DateTimeOffset.TryParse(json.GetProperty("time").GetString(), out _));
        }

        // The prefix pattern kept other/app's events from the team subscription; each event went once to each.
        Assert.DoesNotContain(delivered, r => r.Path == "/team" && r.Detail("repository-name") != "team/app");
        Assert.Contains(delivered, r => r.Path == "/all" && r.Detail("repository-name") == "other/app");
        Assert.Equal(delivered.Count, delivered.Select(r => (r.Path, r.EventId)).Distinct().Count());

        var pushes = delivered.Where(r => r.Path == "/all" && r.Detail("action-type") == "PUSH").ToList();
        Assert.Contains(pushes, r => r.Detail("repository-name") == "team/app" && r.Detail("image-tag") == "1" && r.Detail("result") == "SUCCESS" && r.Detail("image-digest")!.StartsWith("sha256:", StringComparison.Ordinal));
        Assert.Contains(pushes, r => r.Detail("repository-name") == "other/app" && r.Detail("image-tag") == "v1" && r.Detail("image-digest") == image.Manifest.Digest);
        var deleted = Assert.Single(delivered, r => r.Path == "/all" && r.Detail("repository-name") == "other/app" && r.Detail("action-type") == "DELETE");
        Assert.Equal(image.Manifest.Digest, deleted.Detail("image-digest"));

        // The expiration is an ECR Image Action DELETE naming the rule that decided it, of the first (busybox) image.
        var busybox = pushes.Single(r => r.Detail("repository-name") == "team/app" && r.Detail("image-tag") == "1").Detail("image-digest");
        var expired = Assert.Single(delivered, r => r.Path == "/team" && r.Detail("action-type") == "DELETE");
        Assert.Equal((busybox, "1"), (expired.Detail("image-digest"), expired.Detail("lifecycle-rule-priority")));

        var scan = delivered.First(r => r.Path == "/team" && r.Json.GetProperty("detail-type").GetString() == "ECR Image Scan" && r.Detail("image-digest") == busybox);
        Assert.False(string.IsNullOrEmpty(scan.Detail("scan-status")));
        Assert.Equal("arn:aws:ecr:us-east-1:123456789012:repository/team/app", scan.Json.GetProperty("resources")[0].GetString());
    }
}
