using System.Globalization;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Storage.S3;

namespace Wharf.Testing;

/// <summary>
/// A throwaway S3 server for the test run: a single-node Ceph (monitor, memstore OSD) and a RADOS
/// Gateway on loopback, started by the project's own <c>test/infra/rgw/start.sh</c> into a temp
/// directory on free ports. One shared server per test process (<see cref="GetAsync"/>); each caller
/// takes a fresh bucket. A test that stops the gateway gets a server of its own
/// (<see cref="StartDedicatedAsync"/>), so that it takes S3 away from no other test.
/// </summary>
public sealed class RgwServer : IAsyncDisposable
{
    private const string Scripts = "test/infra/rgw";
    private static readonly string[] Binaries = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph", "curl", "setsid"];
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static RgwServer? shared;
    private static int bucketCounter;

    private readonly string directory;
    private readonly string scriptDirectory;
    private readonly SemaphoreSlim gatewayGate = new(1, 1);
    private int stopped;

    private RgwServer(string directory, string scriptDirectory, IReadOnlyDictionary<string, string> environment)
    {
        this.directory = directory;
        this.scriptDirectory = scriptDirectory;
        Endpoint = new Uri(environment["S3_ENDPOINT"]);
        AccessKey = environment["AWS_ACCESS_KEY_ID"];
        SecretKey = environment["AWS_SECRET_ACCESS_KEY"];
        Region = environment["AWS_DEFAULT_REGION"];
    }

    /// <summary>The S3 service URL, <c>http://127.0.0.1:port/</c>; buckets are addressed in the path.</summary>
    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    /// <summary>The region requests are signed for ("us-east-1"; the gateway accepts any).</summary>
    public string Region { get; }

    /// <summary>How long the last start took (the gateway answering S3, its user created).</summary>
    public TimeSpan StartDuration { get; private set; }

    /// <summary>The run's server, started on first use; skips (or fails in CI) when Ceph is not installed.</summary>
    public static async Task<RgwServer> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            shared ??= await StartAsync(CancellationToken.None);
            return shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// A server of the caller's own, stopped by <see cref="DisposeAsync"/>: for tests that stop the
    /// gateway, which on the shared server would fail whatever else runs at that moment.
    /// </summary>
    public static Task<RgwServer> StartDedicatedAsync(CancellationToken cancellationToken = default) => StartAsync(cancellationToken);

    /// <summary>An S3 client for this server, with the settings the gateway needs (path style, checksums only when required).</summary>
    public AmazonS3Client CreateClient() =>
        new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            AuthenticationRegion = Region,
            ForcePathStyle = true,
            // AWSSDK.S3 4.x sends flexible checksums by default, which this gateway rejects (XAmzContentSHA256Mismatch).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromSeconds(30),
        });

    /// <summary>Creates a new empty bucket, unique in the run, and returns its name.</summary>
    public async Task<string> CreateBucketAsync(string? prefix = null, CancellationToken cancellationToken = default)
    {
        var name = BucketName(prefix, Interlocked.Increment(ref bucketCounter));
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
        return name;
    }

    /// <summary>The S3 blob store's options for <paramref name="bucket"/> on this server.</summary>
    public S3BlobStoreOptions OptionsFor(string bucket, string prefix = "") => new()
    {
        Bucket = bucket,
        Endpoint = Endpoint.ToString().TrimEnd('/'),
        Region = Region,
        ForcePathStyle = true,
        Prefix = prefix,
        AccessKeyId = AccessKey,
        SecretAccessKey = SecretKey,
        Checksums = S3ChecksumMode.WhenRequired,
    };

    /// <summary>
    /// Stops only the gateway (SIGTERM, SIGKILL after 3 s): S3 refuses connections while the
    /// monitor and OSD keep every object. On the shared server this takes S3 from every test in the
    /// process; prefer <see cref="StartDedicatedAsync"/>.
    /// </summary>
    public async Task StopGatewayAsync(CancellationToken cancellationToken = default)
    {
        await gatewayGate.WaitAsync(cancellationToken);
        try
        {
            (await RunScriptAsync("rgw-stop.sh", new Dictionary<string, string> { ["STOP_WAIT"] = "3" }, cancellationToken)).EnsureSuccess();
        }
        finally
        {
            gatewayGate.Release();
        }
    }

    /// <summary>Starts the gateway again on the same port; returns once it answers S3.</summary>
    public async Task StartGatewayAsync(CancellationToken cancellationToken = default)
    {
        await gatewayGate.WaitAsync(cancellationToken);
        try
        {
            (await RunScriptAsync("rgw-start.sh", null, cancellationToken)).EnsureSuccess();
        }
        finally
        {
            gatewayGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0)
        {
            await RunScriptAsync("stop.sh", new Dictionary<string, string> { ["FAST"] = "1" }, CancellationToken.None);
        }

        gatewayGate.Dispose();
    }

    private static string BucketName(string? prefix, int counter)
    {
        // Bucket names: 3-63 characters of lower-case letters, digits and '-', starting with a letter or digit.
        var cleaned = new StringBuilder();
        foreach (var c in (prefix ?? "wharf-test").ToLowerInvariant())
        {
            cleaned.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        var head = cleaned.ToString().Trim('-');
        if (head.Length == 0)
        {
            head = "wharf-test";
        }

        var tail = string.Create(CultureInfo.InvariantCulture, $"-{Environment.ProcessId}-{counter}");
        return head[..Math.Min(head.Length, 63 - tail.Length)].TrimEnd('-') + tail;
    }

    private static async Task<RgwServer> StartAsync(CancellationToken cancellationToken)
    {
        var missing = Binaries.Where(b => Requires.Which(b) is null).ToArray();
        if (missing.Length > 0)
        {
            Requires.Missing($"Ceph RADOS Gateway binaries were not found ({string.Join(", ", missing)}; .ci/run installs ceph-mon ceph-osd radosgw curl)");
        }

        var scripts = Path.Combine(RepositoryRoot(), Scripts);
        for (var attempt = 0; ; attempt++)
        {
            // Short: the monitor's and gateway's unix sockets live under it (108-byte limit).
            var directory = Path.Combine(Path.GetTempPath(), "wharf-rgw-" + Guid.NewGuid().ToString("N")[..12]);
            var monPort = Ports.Free();
            var rgwPort = Ports.Free();
            if (monPort == rgwPort)
            {
                continue;
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            var environment = new Dictionary<string, string>
            {
                ["CEPH_DIR"] = directory,
                ["MON_PORT"] = monPort.ToString(CultureInfo.InvariantCulture),
                ["RGW_PORT"] = rgwPort.ToString(CultureInfo.InvariantCulture),
                // Should the test host be killed (a hang timeout), the cluster stops itself.
                ["OWNER_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                ["TIMEOUT"] = "60",
            };
            var result = await ProcessRunner.RunAsync(Path.Combine(scripts, "start.sh"), [], TimeSpan.FromMinutes(2), environment, cancellationToken: cancellationToken);
            if (result.ExitCode == 0)
            {
                var server = new RgwServer(directory, scripts, ParseEnvironment(result.StandardOutput)) { StartDuration = started.Elapsed };
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return server;
            }

            if (attempt >= 2)
            {
                Assert.Fail($"The Ceph RADOS Gateway did not start ({result.Command}, exit {result.ExitCode}):\n{result.StandardError}");
            }
        }
    }

    private static Dictionary<string, string> ParseEnvironment(string output)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[line[..equals]] = line[(equals + 1)..];
            }
        }

        return values;
    }

    private Task<ProcessResult> RunScriptAsync(string script, Dictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var all = new Dictionary<string, string>(environment ?? []) { ["CEPH_DIR"] = directory };
        return ProcessRunner.RunAsync(Path.Combine(scriptDirectory, script), [], TimeSpan.FromMinutes(2), all, cancellationToken: cancellationToken);
    }

    private static string RepositoryRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "Wharf.slnx")))
        {
            directory = Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar))
                ?? throw new InvalidOperationException("Wharf.slnx not found above the test binaries");
        }

        return directory;
    }
}
