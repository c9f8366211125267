using Wharf.Server.Hosting;

namespace Wharf.Server.Tests.Hosting;

/// <summary>Request ids without a system call each: still unique under concurrency and shaped as RFC 4122 version-4 UUIDs.</summary>
public sealed class RequestIdTests
{
    [Fact]
    public async Task Ids_drawn_on_many_threads_at_once_are_all_distinct_version_4_uuids_with_one_prefix()
    {
        var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Enumerable.Range(0, 50_000).Select(_ => RequestIds.Next()).ToList())));
        var all = batches.SelectMany(b => b).ToList();

        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, id =>
        {
            Assert.True(Guid.TryParseExact(id, "D", out _), id);
            Assert.Equal('4', id[14]);
            Assert.Contains(id[19], "89ab");
        });

        // The process's prefix (the first 64 bits) is the same on every id; the counter after it is what differs.
        Assert.Single(all.Select(id => id[..18]).Distinct(StringComparer.Ordinal));
    }
}
