using System.Net.Http.Headers;
using System.Text;
using Wharf.Testing;

namespace Wharf.Cluster.Tests.Infrastructure;

/// <summary>Where the cluster keeps blobs.</summary>
internal enum ClusterStorage
{
    /// <summary>One directory every node uses: all nodes run on this machine, so they share it.</summary>
    FileSystem,

    /// <summary>A fresh bucket on the test run's Ceph RADOS Gateway (<see cref="RgwServer"/>).</summary>
    S3,
}

/// <summary>
/// A real cluster: <see cref="NodeCount"/> <c>wharf serve</c> processes in IAM mode on one fresh
/// PostgreSQL database and one blob store, sharing the master key file, behind nginx. Each node has its
/// own data directory, so anything a node keeps there alone shows up as a cluster bug. Node 0 starts
/// first (it creates the account and the root key); the others join it.
/// </summary>
internal sealed class WharfCluster : IAsyncDisposable
{
    public const int NodeCount = 3;
    public const string Region = "us-east-1";

    private readonly string root;
    private readonly Dictionary<string, string> storeEnvironment;

    private WharfCluster(string root, Dictionary<string, string> storeEnvironment, IReadOnlyList<ClusterNode> nodes, Balancer balancer, RgwServer? rgw)
    {
        Rgw = rgw;
        this.root = root;
        this.storeEnvironment = storeEnvironment;
        Nodes = nodes;
        Balancer = balancer;
    }

    public IReadOnlyList<ClusterNode> Nodes { get; }

    public Balancer Balancer { get; }

    /// <summary>The S3 server the blobs are on (<see cref="ClusterStorage.S3"/>), else null.</summary>
    public RgwServer? Rgw { get; }

    /// <summary>The root key's <c>AWS_ACCESS_KEY_ID</c> and <c>AWS_SECRET_ACCESS_KEY</c>.</summary>
    public Dictionary<string, string> RootCredentials { get; private set; } = [];

    /// <summary>The <c>Authorization</c> header value of <c>/v2</c> clients: Basic <c>AWS:&lt;GetAuthorizationToken&gt;</c>.</summary>
    public AuthenticationHeaderValue Authorization { get; private set; } = null!;

    /// <summary>The password of <see cref="Authorization"/>, for skopeo's <c>--dest-creds AWS:…</c>.</summary>
    public string Password { get; private set; } = string.Empty;

    /// <summary>
    /// Starts the cluster. <paramref name="nodeSettings"/> adds <c>WHARF__…</c> variables for one node
    /// (by index), e.g. to let only one node run GC.
    /// </summary>
    public static async Task<WharfCluster> StartAsync(ClusterStorage storage, Func<int, IReadOnlyDictionary<string, string>>? nodeSettings = null)
    {
        if (WharfCommand.Binary is null && !File.Exists(WharfCommand.Prefix[0]))
        {
            Assert.Fail($"{WharfCommand.Prefix[0]} is missing: the test project must reference Wharf.Server");
        }

        var postgres = await PostgresCluster.GetAsync();
        var connection = await postgres.CreateDatabaseAsync();
        var root = Path.Combine(Path.GetTempPath(), "wharf-cluster-" + Guid.NewGuid().ToString("N"));
        var shared = Path.Combine(root, "shared");
        Directory.CreateDirectory(shared);

        RgwServer? rgw = null;
        var store = new Dictionary<string, string>
        {
            ["WHARF__Metadata__Backend"] = "Postgres",
            ["WHARF__Metadata__ConnectionString"] = connection,
            ["WHARF__Identity__MasterKeyFile"] = Path.Combine(shared, "master.key"),
            ["WHARF__Identity__RootCredentialsFile"] = Path.Combine(shared, "root-credentials"),
        };
        switch (storage)
        {
            case ClusterStorage.FileSystem:
                store["WHARF__Storage__Backend"] = "FileSystem";
                store["WHARF__Storage__Path"] = Path.Combine(shared, "blobs");
                break;
            case ClusterStorage.S3:
                rgw = await RgwServer.GetAsync();
                var s3 = rgw.OptionsFor(await rgw.CreateBucketAsync());
                store["WHARF__Storage__Backend"] = "S3";
                store["WHARF__Storage__S3__Bucket"] = s3.Bucket;
                store["WHARF__Storage__S3__Endpoint"] = s3.Endpoint!;
                store["WHARF__Storage__S3__Region"] = s3.Region;
                store["WHARF__Storage__S3__ForcePathStyle"] = "true";
                store["WHARF__Storage__S3__AccessKeyId"] = s3.AccessKeyId!;
                store["WHARF__Storage__S3__SecretAccessKey"] = s3.SecretAccessKey!;
                store["WHARF__Storage__S3__Checksums"] = s3.Checksums.ToString();
                break;
        }

        var nodes = new List<ClusterNode>();
        var usedPorts = new HashSet<int>();
        for (var i = 0; i < NodeCount; i++)
        {
            var environment = new Dictionary<string, string>(store) { ["WHARF__Auth"] = "Iam" };
            foreach (var (key, value) in nodeSettings?.Invoke(i) ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            int port;
            do
            {
                port = Ports.Free();
            }
            while (!usedPorts.Add(port));

            nodes.Add(new ClusterNode(i, port, Path.Combine(root, $"node{i}"), environment));
        }

        Balancer? balancer = null;
        try
        {
            await nodes[0].StartAsync();
            await Task.WhenAll(nodes.Skip(1).Select(n => n.StartAsync()));
            balancer = await Balancer.StartAsync(Path.Combine(root, "nginx"), nodes.Select(n => n.Port));
            var cluster = new WharfCluster(root, store, nodes, balancer, rgw);
            await cluster.LogInAsync();
            return cluster;
        }
        catch
        {
            if (balancer is not null)
            {
                await balancer.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>A /v2 client for any of the cluster's addresses (requests carry absolute URIs), logged in.</summary>
    public OciClient CreateClient() => new(Authorization);

    /// <summary>Runs a <c>wharf</c> command (<c>check</c>, <c>gc</c>, …) against the cluster's metadata and blob store.</summary>
    public Task<ProcessResult> RunWharfAsync(params string[] args)
    {
        var dataDirectory = Path.Combine(root, "cli");
        Directory.CreateDirectory(dataDirectory);
        return WharfCommand.RunAsync([.. args, "--data-dir", dataDirectory], TimeSpan.FromMinutes(3), storeEnvironment);
    }

    /// <summary>Every node's output, for a failure message.</summary>
    public string Logs(int tail = 4000)
    {
        var text = new StringBuilder();
        foreach (var node in Nodes)
        {
            var log = node.Log;
            text.Append("=== node ").Append(node.Index).AppendLine().AppendLine(log.Length > tail ? log[^tail..] : log);
        }

        return text.Append("=== nginx").AppendLine().Append(Balancer.ErrorLog).ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await Balancer.DisposeAsync();
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>As ECR's clients log in: the root key signs <c>GetAuthorizationToken</c> (through the balancer), the token is the /v2 password.</summary>
    private async Task LogInAsync()
    {
        RootCredentials = AwsClients.ReadCredentialsFile(storeEnvironment["WHARF__Identity__RootCredentialsFile"]);
        var login = await AwsClients.CliAsync(Balancer.BaseAddress, Region, RootCredentials, "ecr", "get-login-password");
        Password = login.EnsureSuccess().StandardOutput.Trim();
        Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + Password)));
    }
}
