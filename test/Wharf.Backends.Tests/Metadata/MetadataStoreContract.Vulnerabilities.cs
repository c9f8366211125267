using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>What the vulnerability database needs of every backend: an import replaces a source atomically; lookups by package.</summary>
public abstract partial class MetadataStoreContract
{
    private static async IAsyncEnumerable<AdvisoryRecord> Advisories(IEnumerable<AdvisoryRecord> records, bool failAtEnd = false)
    {
        foreach (var record in records)
        {
            await Task.Yield();
            yield return record;
        }

        if (failAtEnd)
        {
            throw new InvalidDataException("the export is truncated");
        }
    }

    private static AdvisoryRecord Advisory(string id, string ecosystem, string name, int day) =>
        new(id, T0.AddDays(day), $"{{\"id\":\"{id}\"}}", [(ecosystem, name)]);

    [Fact]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.ReplaceSourceAsync))]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.FindAsync))]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.ListSourcesAsync))]
    public async Task An_import_replaces_a_source_whole_and_lookups_find_advisories_by_package()
    {
        await using var store = await CreateStoreAsync();
        Assert.Empty(await store.Vulnerabilities.ListSourcesAsync(Ct));
        Assert.Equal(2, await store.Vulnerabilities.ReplaceSourceAsync("Debian", Advisories([Advisory("DEBIAN-1", "Debian:12", "openssl", 1), Advisory("DEBIAN-2", "Debian:12", "zlib", 3)]), T0.AddDays(10), Ct));
        Assert.Equal(1, await store.Vulnerabilities.ReplaceSourceAsync("npm", Advisories([new AdvisoryRecord("GHSA-1", null, "{\"id\":\"GHSA-1\"}", [("npm", "lodash"), ("npm", "lodash")])]), T0.AddDays(10), Ct));
        Assert.Equal(["{\"id\":\"DEBIAN-1\"}"], await store.Vulnerabilities.FindAsync("Debian:12", "openssl", Ct));
        Assert.Empty(await store.Vulnerabilities.FindAsync("Debian:11", "openssl", Ct));
        var sources = await store.Vulnerabilities.ListSourcesAsync(Ct);
        Assert.Equal([new VulnerabilitySource("Debian", T0.AddDays(3), T0.AddDays(10), 2), new VulnerabilitySource("npm", null, T0.AddDays(10), 1)], sources);

        // A new export of the source replaces it: gone advisories go.
        Assert.Equal(1, await store.Vulnerabilities.ReplaceSourceAsync("Debian", Advisories([Advisory("DEBIAN-2", "Debian:12", "zlib", 5)]), T0.AddDays(11), Ct));
        Assert.Empty(await store.Vulnerabilities.FindAsync("Debian:12", "openssl", Ct));
        Assert.Single(await store.Vulnerabilities.FindAsync("Debian:12", "zlib", Ct));
        Assert.Single(await store.Vulnerabilities.FindAsync("npm", "lodash", Ct));
    }

    [Fact]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.ReplaceSourceAsync))]
    public async Task A_failed_import_leaves_the_previous_database_in_service()
    {
        await using var store = await CreateStoreAsync();
        await store.Vulnerabilities.ReplaceSourceAsync("Alpine", Advisories([Advisory("ALPINE-1", "Alpine:v3.20", "musl", 1)]), T0, Ct);
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            store.Vulnerabilities.ReplaceSourceAsync("Alpine", Advisories([Advisory("ALPINE-2", "Alpine:v3.20", "busybox", 2)], failAtEnd: true), T0.AddDays(1), Ct));
        Assert.Single(await store.Vulnerabilities.FindAsync("Alpine:v3.20", "musl", Ct));
        Assert.Empty(await store.Vulnerabilities.FindAsync("Alpine:v3.20", "busybox", Ct));
        Assert.Equal(new VulnerabilitySource("Alpine", T0.AddDays(1), T0, 1), Assert.Single(await store.Vulnerabilities.ListSourcesAsync(Ct)));
    }

    [Fact]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.FindAsync))]
    [Covers(typeof(IVulnerabilityStore), nameof(IVulnerabilityStore.ReplaceSourceAsync))]
    public async Task A_package_finds_its_advisories_from_every_source_and_replacing_one_source_keeps_the_others()
    {
        await using var store = await CreateStoreAsync();
        await store.Vulnerabilities.ReplaceSourceAsync("GHSA", Advisories([Advisory("GHSA-1", "PyPI", "requests", 1), Advisory("GHSA-2", "PyPI", "urllib3", 1)]), T0, Ct);
        await store.Vulnerabilities.ReplaceSourceAsync("PyPA", Advisories([Advisory("PYSEC-1", "PyPI", "requests", 2)]), T0, Ct);

        Assert.Equal(["{\"id\":\"GHSA-1\"}", "{\"id\":\"PYSEC-1\"}"], (await store.Vulnerabilities.FindAsync("PyPI", "requests", Ct)).Order(StringComparer.Ordinal));
        Assert.Empty(await store.Vulnerabilities.FindAsync("PyPI", "Requests", Ct)); // names are matched as given

        Assert.Equal(0, await store.Vulnerabilities.ReplaceSourceAsync("PyPA", Advisories([]), T0.AddDays(1), Ct));
        Assert.Equal(["{\"id\":\"GHSA-1\"}"], await store.Vulnerabilities.FindAsync("PyPI", "requests", Ct));
        Assert.Single(await store.Vulnerabilities.FindAsync("PyPI", "urllib3", Ct));
        Assert.Equal(0, (await store.Vulnerabilities.ListSourcesAsync(Ct)).Single(s => s.Name == "PyPA").AdvisoryCount);
    }
}
