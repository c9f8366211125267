using System.Text.Json;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// A replication source over OCI layout directories on disk (images written by <c>OciLayout</c>): the exact
/// bytes a registry would hold, read as a target reads a source, so a target can be driven on its own.
/// </summary>
internal sealed class OciLayoutSource(params string[] layouts) : IReplicationSource
{
    public async Task<ReplicationManifest?> GetManifestAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken)
    {
        if (Find(digest) is not { } path)
        {
            return null;
        }

        var content = await File.ReadAllBytesAsync(path, cancellationToken);
        using var json = JsonDocument.Parse(content);
        var root = json.RootElement;
        var blobs = new List<(Digest, long)>();
        var children = new List<Digest>();
        if (root.TryGetProperty("manifests", out var manifests))
        {
            children.AddRange(manifests.EnumerateArray().Select(m => Digest.Parse(m.GetProperty("digest").GetString()!)));
        }
        else
        {
            foreach (var descriptor in root.GetProperty("layers").EnumerateArray().Prepend(root.GetProperty("config")))
            {
                blobs.Add((Digest.Parse(descriptor.GetProperty("digest").GetString()!), descriptor.GetProperty("size").GetInt64()));
            }
        }

        return new ReplicationManifest(digest, root.GetProperty("mediaType").GetString()!, content, blobs, children);
    }

    public Task<Stream> OpenBlobAsync(RepositoryKey source, Digest digest, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(File.OpenRead(Find(digest) ?? throw new FileNotFoundException(digest.ToString())));

    private string? Find(Digest digest) =>
        layouts.Select(l => Path.Combine(l, "blobs", "sha256", digest.ToString()["sha256:".Length..])).FirstOrDefault(File.Exists);
}
