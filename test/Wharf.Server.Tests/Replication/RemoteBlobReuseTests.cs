using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Hosting;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// Bytes sent to a remote Wharf are the unique bytes (issue 15's bench): a registry checks blobs per
/// repository, so a layer the remote already has in another repository is mounted there, and two copies
/// running at once that need the same layer send it once (the second waits for the first, then finds it).
/// What each copy sent is the source's own count (its <c>Replicated …</c> log line), the figure the bench's
/// byte-counting proxy measures.
/// </summary>
public sealed class RemoteBlobReuseTests
{
    private const string Region = "eu-west-1";
    private const string DestinationAccount = "210987654321";
    private static readonly RegistryKey SourceRegistry = new(AccountId.Parse("123456789012"), "us-east-1");

    [Fact]
    public async Task A_layer_the_remote_has_in_another_repository_is_mounted_not_sent_again()
    {
        await using var pair = await Pair.StartAsync();
        var baseImage = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [300_000], 980, TestContext.Current.CancellationToken);
        var app = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [300_000, 20_000], 980, TestContext.Current.CancellationToken);
        Assert.Equal(baseImage.Layers[0].Digest, app.Layers[0].Digest);

        await pair.ReplicateAsync("team/base", baseImage);
        await pair.ReplicateAsync("team/app", app);

        // team/app's copy sent its config and its own layer; the shared layer was mounted from team/base.
        Assert.Equal((2, app.Config.Size + app.Layers[1].Size, 0, 1), pair.Sent(app));
        Assert.Equal(200, await pair.HeadBlobAsync("team/app", app.Layers[0].Digest));
    }

    [Fact]
    public async Task Two_copies_at_once_that_share_a_layer_send_it_once()
    {
        await using var pair = await Pair.StartAsync();

        // Two images of one repository on one base layer, copied at once: whichever copy comes second to the
        // layer waits for the first and finds it there.
        var one = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [4_000_000, 10_000], 990, TestContext.Current.CancellationToken);
        var two = await OciLayout.WriteImageAsync(NewDirectory(), "v1", [4_000_000, 30_000], 990, TestContext.Current.CancellationToken);
        Assert.Equal(one.Layers[0].Digest, two.Layers[0].Digest);

        await Task.WhenAll(pair.ReplicateAsync("team/app", one, "one"), pair.ReplicateAsync("team/app", two, "two"));

        // Five distinct blobs (two configs, the shared layer, each image's own layer): the shared one sent by one copy only.
        var (sentOne, sentTwo) = (pair.Sent(one), pair.Sent(two));
        Assert.Equal(5, sentOne.Blobs + sentTwo.Blobs);
        Assert.Equal(one.Config.Size + two.Config.Size + one.Layers.Sum(l => l.Size) + two.Layers[1].Size, sentOne.Bytes + sentTwo.Bytes);
        Assert.Equal((1, 0), (sentOne.Present + sentTwo.Present, sentOne.Mounted + sentTwo.Mounted));
        Assert.Equal(200, await pair.HeadBlobAsync("team/app", one.Layers[0].Digest));
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wharf-repl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>A source Wharf with <see cref="Region"/> served by a destination Wharf in IAM mode, the destination root's key given to the source.</summary>
    private sealed class Pair(WharfTestServer source, WharfTestServer destination, CapturedLogs logs, Dictionary<string, string> root) : IAsyncDisposable
    {
        public static async Task<Pair> StartAsync()
        {
            var destination = await WharfTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Auth"] = "Iam",
                ["Registry:DefaultAccount"] = DestinationAccount,
                ["Registry:DefaultRegion"] = Region,
            });
            var root = AwsClients.ReadCredentialsFile(Path.Combine(destination.DataDirectory, "root-credentials"));
            var settings = RemoteRegions.Settings(Region, destination.BaseAddress, "wharf");
            var logs = new CapturedLogs();
            var source = await WharfTestServer.StartAsync(settings, services: s => s.AddSingleton<ILoggerProvider>(logs));
            (await RemoteRegions.SetCredentialsAsync(source.StoreArguments, settings, Region, "--access-key-id", root["AWS_ACCESS_KEY_ID"], root["AWS_SECRET_ACCESS_KEY"])).EnsureSuccess();
            return new Pair(source, destination, logs, root);
        }

        public Task ReplicateAsync(string repository, LayoutImage image, string tag = "v1")
        {
            var destination = new ReplicationDestination(Region, DestinationAccount);
            var target = source.App.Services.GetRequiredService<IReplicationSites>().Find(destination)!;
            var item = new ReplicationItem(new RepositoryKey(SourceRegistry, RepositoryName.Parse(repository)), Digest.Parse(image.Manifest.Digest), [tag], destination);
            return target.ReplicateAsync(item, new OciLayoutSource(image.Directory), TestContext.Current.CancellationToken);
        }

        /// <summary>What the source logged it sent for <paramref name="image"/>: blobs uploaded, their bytes, blobs already there, blobs mounted.</summary>
        public (int Blobs, long Bytes, int Present, int Mounted) Sent(LayoutImage image)
        {
            var line = Assert.Single(logs.Entries, e => e.EventId == WharfEventId.RemoteReplicated && e.Message.Contains(image.Manifest.Digest, StringComparison.Ordinal)).Message;
            var counts = Regex.Match(line, @": (\d+) blobs sent \((\d+) bytes\), (\d+) already there, (\d+) mounted from another repository$");
            Assert.True(counts.Success, line);
            int Count(int group) => int.Parse(counts.Groups[group].Value, CultureInfo.InvariantCulture);
            return (Count(1), long.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture), Count(3), Count(4));
        }

        public async Task<int> HeadBlobAsync(string repository, string digest)
        {
            var password = (await AwsClients.CliAsync(destination.BaseAddress, Region, root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
            using var client = destination.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}");
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return (int)response.StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            await source.DisposeAsync();
            await destination.DisposeAsync();
        }
    }
}
