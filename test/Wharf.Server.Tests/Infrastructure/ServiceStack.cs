using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;
using Wharf.Metadata.Sqlite;
using Wharf.Storage.FileSystem;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>The real services over real SQLite and filesystem stores, on a fake clock.</summary>
internal sealed class ServiceStack : IAsyncDisposable
{
    public static readonly RegistryKey Registry = new(AccountId.Parse("123456789012"), "us-east-1");
    public static readonly Caller Caller = Caller.Root(Registry.Account);

    private ServiceStack(string directory, SqliteMetadataStore store, FileSystemBlobStore blobs, FakeTimeProvider time, TimeSpan grace)
    {
        Directory = directory;
        Store = store;
        Blobs = blobs;
        Time = time;
        var settings = new DataPlaneSettings(CreateOnPush: true, UploadExpiry: TimeSpan.FromHours(24));
        Repositories = new RepositoryResolver(store, new OpenAccessAuthorizer(), settings, time);
        Uploads = new UploadService(store, new Wharf.Core.Encryption.PlaintextBlobVault(blobs), Repositories, settings, time);
        Manifests = new ManifestService(store, Repositories, new PullRecorder(store, time), time);
        Collector = new GarbageCollector(store, blobs, new Wharf.Core.Encryption.PlaintextBlobVault(blobs), time, grace);
        Janitor = new UploadJanitor(store, blobs, time);
    }

    public string Directory { get; }

    public IMetadataStore Store { get; }

    public IBlobStore Blobs { get; }

    public FakeTimeProvider Time { get; }

    public RepositoryResolver Repositories { get; }

    public UploadService Uploads { get; }

    public ManifestService Manifests { get; }

    public GarbageCollector Collector { get; }

    public UploadJanitor Janitor { get; }

    /// <summary>
    /// A stack over <paramref name="directory"/> (the layout of a server's data directory: wharf.db and
    /// blobs/; a fresh temporary one by default), its clock starting at <paramref name="start"/>.
    /// </summary>
    public static async Task<ServiceStack> CreateAsync(TimeSpan grace, string? directory = null, DateTimeOffset? start = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "wharf-stack-" + Guid.NewGuid().ToString("N"));
        var store = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"));
        await store.MigrateAsync(CancellationToken.None);
        var time = new FakeTimeProvider(start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        return new ServiceStack(directory, store, new FileSystemBlobStore(Path.Combine(directory, "blobs")), time, grace);
    }

    /// <summary>Closes the store and leaves the directory for a server process to open.</summary>
    public async Task CloseAsync()
    {
        await Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public static RepositoryKey Repo(string name) => new(Registry, RepositoryName.Parse(name));

    public async Task<Digest> UploadAsync(string repository, byte[] content)
    {
        var digest = Digest.Sha256Of(content);
        using var body = new MemoryStream(content);
        return await Uploads.UploadMonolithicAsync(Caller, Repo(repository), digest, body, content.Length, CancellationToken.None);
    }

    /// <summary>Pushes config and layers, then a manifest referencing them; returns the manifest bytes.</summary>
    public async Task<byte[]> PushImageAsync(string repository, string tag, byte[] config, params byte[][] layers)
    {
        foreach (var blob in layers.Prepend(config))
        {
            await UploadAsync(repository, blob);
        }

        return await PutManifestAsync(repository, tag, config, layers);
    }

    public async Task<byte[]> PutManifestAsync(string repository, string tag, byte[] config, params byte[][] layers)
    {
        var manifest = Manifest(config, layers);
        await Manifests.PutAsync(Caller, Repo(repository), Reference.Of(Tag.Parse(tag)), MediaTypes.OciManifest, manifest, CancellationToken.None);
        return manifest;
    }

    public static byte[] Manifest(byte[] config, byte[][] layers)
    {
        var layerJson = string.Join(',', layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Digest.Sha256Of(l)}}","size":{{l.Length}}}"""));
        return Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Digest.Sha256Of(config)}}","size":{{config.Length}}},"layers":[{{layerJson}}]}""");
    }

    public static byte[] Random(int length) => RandomNumberGenerator.GetBytes(length);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still be closing its -wal/-shm files; a temp directory left behind is harmless.
        }
    }
}
