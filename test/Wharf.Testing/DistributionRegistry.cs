namespace Wharf.Testing;

/// <summary>
/// CNCF Distribution (Debian's <c>docker-registry</c>) on 127.0.0.1 and a port of its own, with htpasswd
/// basic auth (a bcrypt line from <c>htpasswd</c>): a plain OCI registry to replicate to. It can be stopped
/// and started again on the same port and storage (a destination that goes down and comes back).
/// </summary>
public sealed class DistributionRegistry : IAsyncDisposable
{
    public const string User = "wharf-replicator";

    private readonly LoggedProcess process = new();
    private readonly string config;

    private DistributionRegistry(string root, int port, string password)
    {
        Root = root;
        Port = port;
        Password = password;
        config = Path.Combine(root, "config.yml");
    }

    public string Root { get; }

    public int Port { get; }

    public string Password { get; }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    public string HostAndPort => $"127.0.0.1:{Port}";

    /// <summary>The registry's output (its access log among it), across restarts.</summary>
    public string Log => process.Log;

    /// <summary>
    /// Writes the config and the htpasswd file; <see cref="StartAsync"/> runs it. With <paramref name="tokenAuth"/>
    /// the registry takes bearer tokens instead (the Docker token spec): issued by the realm, for the service
    /// and issuer given, signed by the key of the certificate in the PEM bundle. With <paramref name="anonymous"/>
    /// it asks for no credentials at all (a public registry: anyone pulls and pushes).
    /// </summary>
    public static async Task<DistributionRegistry> CreateAsync((Uri Realm, string Service, string Issuer, string CertificatePem)? tokenAuth = null, bool anonymous = false)
    {
        Requires.Tool("docker-registry");
        var htpasswd = Requires.Tool("htpasswd");
        var root = Path.Combine(Path.GetTempPath(), "wharf-distribution-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var registry = new DistributionRegistry(root, Ports.Free(), Guid.NewGuid().ToString("N"));
        var line = (await ProcessRunner.RunAsync(htpasswd, ["-Bbn", User, registry.Password])).EnsureSuccess().StandardOutput.Trim();
        await File.WriteAllTextAsync(Path.Combine(root, "htpasswd"), line + "\n");
        var auth = $"""
              htpasswd:
                realm: wharf-test
                path: {Path.Combine(root, "htpasswd")}
            """;
        if (tokenAuth is { } token)
        {
            var bundle = Path.Combine(root, "token-ca.pem");
            await File.WriteAllTextAsync(bundle, token.CertificatePem);
            auth = $"""
                  token:
                    realm: {token.Realm}
                    service: {token.Service}
                    issuer: {token.Issuer}
                    rootcertbundle: {bundle}
                """;
        }

        if (anonymous)
        {
            auth = "  {}";
        }

        await File.WriteAllTextAsync(registry.config, $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {Path.Combine(root, "data")}
            http:
              addr: 127.0.0.1:{registry.Port}
            auth:
            {auth}
            """);
        return registry;
    }

    /// <summary>Starts the registry and waits until <c>/v2/</c> answers (401: it wants credentials; 200 when anonymous).</summary>
    public Task StartAsync() =>
        process.StartAsync(Requires.Tool("docker-registry"), ["serve", config], new Uri(Endpoint, "/v2/"), TimeSpan.FromSeconds(30));

    /// <summary>Kills the registry (its storage stays): the destination is down.</summary>
    public void Stop() => process.Kill();

    /// <summary>Completed blob uploads into <paramref name="repository"/>, counted from the access log (<c>PUT …/blobs/uploads/… 201</c>).</summary>
    public int BlobUploads(string repository) =>
        Log.Split('\n').Count(l => l.Contains($"\"PUT /v2/{repository}/blobs/uploads/", StringComparison.Ordinal) && l.Contains("\" 201 ", StringComparison.Ordinal));

    public ValueTask DisposeAsync()
    {
        process.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
