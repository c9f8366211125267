using System.Text;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Core.Uploads;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Public.Gallery;

/// <summary>
/// One server for a gallery test class, seeded through the real services: a verified registry
/// (<see cref="Alias"/>, display name, logo) with a repository whose About and Usage are Markdown and whose
/// tags name a single-platform image and a two-platform index; a repository with a hostile About text; an
/// unverified registry with many repositories (search and registry paging) and one with many tags (tag
/// paging); and a private repository of the same account named like a public one.
/// </summary>
public sealed class GalleryFixture : IAsyncLifetime
{
    public const string Alias = "wharfdemo";
    public const string OtherAlias = "bulkpub";
    public const string DisplayName = "Wharf Demo Publisher";
    public const string DemoRepository = "demo-app";
    public const string HostileRepository = "hostile";
    public const string TaggedRepository = "many-tags";
    public const string PrivateRepository = "secret-app";
    public const int BulkRepositories = 23;
    public const int ManyTags = 27;

    /// <summary>A 1×1 PNG.</summary>
    public static readonly byte[] Logo = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    public const string About = """
        # Demo application

        A tiny image for the gallery's tests.

        ```sh
        podman run --rm demo-app --version
        ```

        | Tag | Meaning |
        |-----|---------|
        | latest | the newest build |
        | 1.0 | the first release |

        See [the docs](https://example.com/docs) and <https://example.com/more>.
        """;

    public const string Usage = """
        ## Running

        Run `demo-app serve` and open the page.
        """;

    /// <summary>Every way a catalog text could try to run script in a reader's browser.</summary>
    public const string Hostile = """
        # Innocent title

        <script>window.__pwned = 'script';</script>
        <img src=x onerror="window.__pwned = 'img'">
        <svg onload="window.__pwned = 'svg'"></svg>
        <iframe src="javascript:window.__pwned = 'iframe'"></iframe>
        <a href="javascript:alert(1)" onclick="window.__pwned = 'click'">raw html link</a>
        <div onmouseover="window.__pwned = 'hover'" style="position:fixed;inset:0">cover</div>

        [markdown js link](javascript:alert(1))
        [mixed case](JaVaScRiPt:alert(1))
        [entity](jav&#x09;ascript:alert(1))
        [data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
        [vbscript](vbscript:msgbox(1))
        <javascript:alert(1)>
        ![image](x" onerror="window.__pwned='attr')
        [ok link](https://example.com/safe)
        """;

    public WharfTestServer Server { get; private set; } = null!;

    public AccountId Account { get; private set; }

    public AccountId OtherAccount { get; } = AccountId.Parse("210987654321");

    public string Authority => Server.GetService<IPublicAddress>().Authority;

    public HttpClient Public { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await WharfTestServer.StartAsync();
        Public = Server.CreatePublicClient();
        Account = AccountId.Parse(Server.App.Configuration["Registry:DefaultAccount"] ?? "123456789012");
        var ct = TestContext.Current.CancellationToken;
        var registries = Server.GetService<PublicRegistryService>();
        var root = Caller.Root(Account);

        await registries.CreateRepositoryAsync(root, RepositoryName.Parse(DemoRepository),
            new CatalogInput("A tiny demo application for the gallery", ["x86-64", "ARM 64", "RISC-V"], ["Linux", "Plan9"], About, Usage, Logo), [], ct);
        await registries.SetAliasAsync(Account, Alias, ct);
        await registries.SetVerifiedAsync(Account, true, ct);
        await registries.PutDisplayNameAsync(root, DisplayName, ct);
        await registries.CreateRepositoryAsync(root, RepositoryName.Parse(HostileRepository),
            new CatalogInput("Hostile about text", ["x86-64"], ["Linux"], Hostile, Hostile, null), [], ct);
        var demo = new RepositoryKey(RegistryKey.Public(Account), RepositoryName.Parse(DemoRepository));
        var amd64 = await PushImageAsync(demo, "amd64", ["latest", "1.0"], ct);
        var arm64 = await PushImageAsync(demo, "arm64", [], ct);
        await PushIndexAsync(demo, [(amd64, "amd64"), (arm64, "arm64")], "multi", ct);

        await registries.CreateRepositoryAsync(root, RepositoryName.Parse(TaggedRepository), new CatalogInput("Many tags", null, null, null, null, null), [], ct);
        var tagged = new RepositoryKey(RegistryKey.Public(Account), RepositoryName.Parse(TaggedRepository));
        await PushImageAsync(tagged, "amd64", Enumerable.Range(0, ManyTags).Select(i => $"v{i:D2}").ToList(), ct);

        // A private repository of the same account, with an image: never shown on the public address.
        var secret = new RepositoryKey(new RegistryKey(Account, "us-east-1"), RepositoryName.Parse(PrivateRepository));
        await Server.GetService<IMetadataStore>().Repositories.GetOrCreateAsync(secret, DateTimeOffset.UtcNow, ct);
        await PushImageAsync(secret, "amd64", ["latest"], ct);

        var other = Caller.Root(OtherAccount);
        for (var i = 0; i < BulkRepositories; i++)
        {
            await registries.CreateRepositoryAsync(other, RepositoryName.Parse($"bulk-{i:D2}"), new CatalogInput($"Bulkseed repository number {i}", ["ARM"], ["Windows"], null, null, i == 0 ? Logo : null), [], ct);
        }

        await registries.SetAliasAsync(OtherAccount, OtherAlias, ct);
    }

    /// <summary>Pushes a one-layer image for <paramref name="arch"/> with the Core services (the path /v2 takes); returns its manifest's digest and size.</summary>
    public async Task<(Digest Digest, int Size)> PushImageAsync(RepositoryKey key, string arch, IReadOnlyList<string> tags, CancellationToken ct)
    {
        var root = Caller.Root(key.Registry.Account);
        var uploads = Server.GetService<UploadService>();
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"{{{arch}}}","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}""");
        var layer = Encoding.UTF8.GetBytes("layer for " + arch + " " + key.Name);
        foreach (var blob in new[] { config, layer })
        {
            using var body = new MemoryStream(blob);
            await uploads.UploadMonolithicAsync(root, key, Digest.Sha256Of(blob), body, blob.Length, ct);
        }

        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciImageConfig}}","digest":"{{Digest.Sha256Of(config)}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Digest.Sha256Of(layer)}}","size":{{layer.Length}}}]}""");
        var manifests = Server.GetService<ManifestService>();
        var digest = Digest.Sha256Of(manifest);
        await manifests.PutAsync(root, key, Reference.Of(digest), MediaTypes.OciManifest, manifest, ct);
        foreach (var tag in tags)
        {
            await manifests.PutAsync(root, key, Reference.Of(Tag.Parse(tag)), MediaTypes.OciManifest, manifest, ct);
        }

        return (digest, manifest.Length);
    }

    private async Task PushIndexAsync(RepositoryKey key, IReadOnlyList<((Digest Digest, int Size) Image, string Arch)> children, string tag, CancellationToken ct)
    {
        var entries = string.Join(',', children.Select(c => $$$"""{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{c.Image.Digest}}}","size":{{{c.Image.Size}}},"platform":{"os":"linux","architecture":"{{{c.Arch}}}"}}"""));
        var index = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[{{entries}}]}""");
        await Server.GetService<ManifestService>().PutAsync(Caller.Root(key.Registry.Account), key, Reference.Of(Tag.Parse(tag)), MediaTypes.OciIndex, index, ct);
    }

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        await Server.DisposeAsync();
    }
}
