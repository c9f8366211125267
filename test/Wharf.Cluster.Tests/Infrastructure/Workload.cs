using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Wharf.Testing;

namespace Wharf.Cluster.Tests.Infrastructure;

/// <summary>A push the registry acknowledged (its manifest PUT answered 201): it must pull back byte-identical from every node.</summary>
internal sealed record Acknowledged(string Repository, string Tag, byte[] Manifest, IReadOnlyList<Descriptor> Blobs, string Client);

/// <summary>
/// The clients of the fault tests: raw HTTP pushers whose PATCHes go to a different node each, skopeo
/// pushing generated OCI layouts through the balancer, and the check that pulls every acknowledged
/// image from every node. Failed attempts are retried whole, as CI jobs do, and kept for the report.
/// </summary>
internal sealed class Workload(WharfCluster cluster, OciClient client, string scratch)
{
    private const int ChunkSize = 192 * 1024;

    public ConcurrentBag<Acknowledged> Acknowledged { get; } = [];

    /// <summary>What failed attempts answered (retried afterwards).</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    /// <summary>Failures in no shape a client can act on (a 500 with a stack trace, say): each one is a defect.</summary>
    public ConcurrentQueue<string> Defects { get; } = new();

    public int Attempts => attempts;

    private int attempts;

    /// <summary>
    /// One raw push: a unique layer of 100 KiB–1 MiB uploaded in 192 KiB PATCHes, each to another node
    /// (straight to the nodes, not through the balancer), a config through the balancer, the manifest
    /// through the balancer.
    /// </summary>
    public async Task<Acknowledged> PushRawAsync(Random random, string repository, string tag, IReadOnlyList<Uri> nodes, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref attempts);
        var layer = RandomBytes(random, random.Next(100, 1024) * 1024);
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","tag":"{{repository}}:{{tag}}"}""");
        var order = nodes.Skip(random.Next(nodes.Count)).Concat(nodes).Take(nodes.Count).ToList();
        await client.PushBlobChunkedAsync(order, repository, layer, ChunkSize, cancellationToken);
        await client.PushBlobAsync(cluster.Balancer.BaseAddress, repository, config, cancellationToken);
        var manifest = OciClient.Manifest(config, [layer]);
        await client.PushManifestAsync(cluster.Balancer.BaseAddress, repository, tag, manifest, cancellationToken);
        return new Acknowledged(repository, tag, manifest, [Describe(config), Describe(layer)], "raw");
    }

    /// <summary>One skopeo push of a freshly generated OCI layout (2 layers, 100 KiB–2 MiB) through the balancer.</summary>
    public async Task<Acknowledged> PushSkopeoAsync(Random random, string repository, string tag, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref attempts);
        var directory = Path.Combine(scratch, $"layout-{Guid.NewGuid():N}");
        try
        {
            var image = await OciLayout.WriteImageAsync(directory, "v1", [random.Next(100, 2048) * 1024L + random.Next(1000), random.Next(100, 512) * 1024L], (ulong)random.NextInt64(), cancellationToken);
            var copy = await ContainerTools.Instance.SkopeoAsync(
                "copy", "--retry-times", "0", "--dest-tls-verify=false", "--dest-creds", "AWS:" + cluster.Password,
                image.SkopeoReference, $"docker://{cluster.Balancer.HostAndPort}/{repository}:{tag}");
            if (copy.ExitCode != 0)
            {
                throw new IOException($"skopeo copy exited {copy.ExitCode}: {copy.StandardError.Trim()}");
            }

            var manifest = await File.ReadAllBytesAsync(image.BlobPath(image.Manifest.Digest), cancellationToken);
            return new Acknowledged(repository, tag, manifest, [new(image.Config.Digest, image.Config.Size), .. image.Layers.Select(l => new Descriptor(l.Digest, l.Size))], "skopeo");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Runs <paramref name="push"/> until it is acknowledged (at most <paramref name="tries"/> times, with a
    /// short pause; the attempt's number is passed), keeping each failure. A 5xx whose body is not OCI error JSON (a stack trace, an
    /// HTML page) is kept as a defect unless nginx wrote it (502/504 when a node dies under a request).
    /// </summary>
    public async Task<Acknowledged> UntilAcknowledgedAsync(Func<int, Task<Acknowledged>> push, int tries, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var done = await push(attempt);
                Acknowledged.Add(done);
                return done;
            }
            catch (Exception e) when (attempt < tries && !cancellationToken.IsCancellationRequested && IsRetryable(e))
            {
                Failures.Enqueue(e.Message);
                if (e is RegistryException registry && !IsWellFormedFailure(registry))
                {
                    Defects.Enqueue(e.Message);
                }

                await Task.Delay(100 * attempt, cancellationToken);
            }
        }
    }

    /// <summary>Pulls every acknowledged image from every node: manifest by tag and by digest byte-identical, every blob with its digest and size.</summary>
    public async Task<List<string>> PullEverywhereAsync(IEnumerable<Acknowledged> images, CancellationToken cancellationToken = default)
    {
        var problems = new ConcurrentBag<string>();
        using var checks = new SemaphoreSlim(6);
        var work = images.SelectMany(image => cluster.Nodes.Select(node => (image, node))).Select(async pair =>
        {
            await checks.WaitAsync(cancellationToken);
            try
            {
                foreach (var problem in await PullAsync(pair.node.BaseAddress, pair.image, cancellationToken))
                {
                    problems.Add($"node {pair.node.Index}: {problem}");
                }
            }
            finally
            {
                checks.Release();
            }
        });
        await Task.WhenAll(work);
        return [.. problems];
    }

    /// <summary>Pulls one image from one address (a node or the balancer); returns what did not match.</summary>
    public async Task<List<string>> PullAsync(Uri address, Acknowledged image, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var what = $"{image.Client} {image.Repository}:{image.Tag}";
        var byTag = await client.GetManifestAsync(address, image.Repository, image.Tag, cancellationToken);
        if (byTag is null || !byTag.AsSpan().SequenceEqual(image.Manifest))
        {
            problems.Add($"{what}: manifest by tag {(byTag is null ? "missing" : "differs")}");
            return problems;
        }

        var byDigest = await client.GetManifestAsync(address, image.Repository, OciClient.Sha256(image.Manifest), cancellationToken);
        if (byDigest is null || !byDigest.AsSpan().SequenceEqual(image.Manifest))
        {
            problems.Add($"{what}: manifest by digest {(byDigest is null ? "missing" : "differs")}");
        }

        foreach (var blob in image.Blobs)
        {
            var pulled = await client.GetBlobAsync(address, image.Repository, blob.Digest, cancellationToken);
            if (pulled != blob)
            {
                problems.Add($"{what}: blob {blob.Digest} ({blob.Size} bytes) {(pulled is null ? "missing" : $"came back as {pulled.Digest} ({pulled.Size} bytes)")}");
            }
        }

        return problems;
    }

    /// <summary>Whether an answer has the shape a client can act on: OCI error JSON, or nginx's own gateway errors.</summary>
    public static bool IsWellFormedFailure(RegistryException e) =>
        e.Body.Contains("\"errors\"", StringComparison.Ordinal) && !e.Body.Contains("   at ", StringComparison.Ordinal)
        || e.Status is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout && e.Body.Contains("nginx", StringComparison.Ordinal);

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static Descriptor Describe(byte[] content) => new(OciClient.Sha256(content), content.Length);

    private static bool IsRetryable(Exception e) =>
        e is HttpRequestException or IOException or TaskCanceledException
        || e is RegistryException registry && (int)registry.Status is >= 500 or 404 or 400 or 416;
}
