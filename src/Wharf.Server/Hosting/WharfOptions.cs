using Wharf.Storage.S3;

namespace Wharf.Server.Hosting;

/// <summary>How callers are authenticated.</summary>
public enum AuthMode
{
    /// <summary>Local development: any caller is the default account's root.</summary>
    Open,

    /// <summary>
    /// AWS's model: API calls are SigV4-signed with access keys, <c>/v2</c> takes the Basic token of
    /// <c>GetAuthorizationToken</c>. Until the policy engine lands, only an account's root is authorised.
    /// </summary>
    Iam,
}

public enum MetadataBackend
{
    Sqlite,
    Postgres,
}

public enum StorageBackend
{
    FileSystem,

    /// <summary>An S3-compatible bucket (<see cref="StorageOptions.S3"/>): what several nodes share.</summary>
    S3,
}

/// <summary>
/// All of Wharf's settings, bound at the configuration root: <c>appsettings.json</c>, then
/// <c>WHARF__Section__Key</c> environment variables, then command-line flags. Validated at start.
/// </summary>
public sealed class WharfOptions
{
    /// <summary>Address to listen on (an IP address or <c>localhost</c>).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = 5000;

    /// <summary>Root of local data: the SQLite file and the filesystem blob store live under it by default.</summary>
    public string DataDirectory { get; set; } = "./wharf-data";

    public AuthMode Auth { get; set; } = AuthMode.Iam;

    /// <summary>Permit <see cref="AuthMode.Open"/> on a non-loopback address (never in production).</summary>
    public bool AllowInsecureOpen { get; set; }

    /// <summary>How long in-flight requests get to finish on shutdown.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After this long with no request arriving or in flight (scrapes of <c>/metrics</c> and health probes aside), one
    /// full, compacting collection and <c>malloc_trim</c> give the memory a burst grew back to the system, once per idle
    /// period (docs/operations.md, "Memory"); zero turns it off. <c>--idle-trim-after</c>.
    /// </summary>
    public TimeSpan IdleTrimAfter { get; set; } = TimeSpan.FromSeconds(10);

    public RegistryOptions Registry { get; set; } = new();

    public MetadataOptions Metadata { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public UploadOptions Uploads { get; set; } = new();

    public GcOptions Gc { get; set; } = new();

    public LifecycleOptions Lifecycle { get; set; } = new();

    public ImageOptions Images { get; set; } = new();

    public ScanningOptions Scanning { get; set; } = new();

    public IdentityOptions Identity { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public EventOptions Events { get; set; } = new();

    public JobOptions Jobs { get; set; } = new();

    public ReplicationOptions Replication { get; set; } = new();

    public PullThroughCacheOptions PullThroughCache { get; set; } = new();

    /// <summary>Public registries (ECR Public): their address, the gallery and fair-use limits (docs/public.md).</summary>
    public PublicOptions Public { get; set; } = new();

    /// <summary>The web console under <c>/console/</c> on the main port (docs/console.md).</summary>
    public ConsoleOptions Console { get; set; } = new();

    /// <summary>HTTPS: the certificate and key, or a self-signed local CA (docs/operations.md "TLS").</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Set to listen over plain HTTP in IAM mode on an address that is not loopback (credentials and
    /// tokens then cross the network in clear); <c>--allow-plain-http</c>.
    /// </summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>Metrics (<c>/metrics</c>), traces (OTLP) and log format (docs/operations.md "Metrics", "Tracing and logs").</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>The audit trail (docs/operations.md "Audit trail").</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>Webhooks: subscriptions from settings, delivery retries (docs/operations.md "Webhooks").</summary>
    public WebhookOptions Webhooks { get; set; } = new();

    /// <summary>Encryption at rest (docs/encryption.md).</summary>
    public EncryptionOptions Encryption { get; set; } = new();
}

/// <summary>Encryption at rest (docs/encryption.md).</summary>
public sealed class EncryptionOptions
{
    /// <summary>
    /// Whether new blobs are sealed (AES-256-GCM under data keys wrapped by the master key or a KMS key). Off, new
    /// blobs are stored as plaintext (for a side-by-side bench, or where the disk or bucket is encrypted by other
    /// means); blobs sealed before are still read. Every node must agree, and uploads in flight when it changes fail.
    /// </summary>
    public bool Enabled { get; set; } = true;

    // ---- encrypting an existing install (the migrate helper) ----

    /// <summary>The background encryption of plaintext blobs left from before sealing (docs/encryption.md "Encrypting an existing install").</summary>
    public EncryptionMigrationOptions Migration { get; set; } = new();
}

/// <summary>Encrypting an existing install (docs/encryption.md "Encrypting an existing install").</summary>
public sealed class EncryptionMigrationOptions
{
    /// <summary>
    /// Whether servers seal plaintext blobs in the background (the <c>encrypt</c> job, at start and on <c>Gc:Interval</c>;
    /// plaintext deleted <c>Gc:GraceWindow</c> after it was sealed). Off, only <c>wharf encrypt</c> does it.
    /// </summary>
    public bool Enabled { get; set; } = true;
}

public sealed class RegistryOptions
{
    /// <summary>The account a request belongs to when the host name does not name one.</summary>
    public string DefaultAccount { get; set; } = "123456789012";

    /// <summary>The region a request belongs to when the host name does not name one.</summary>
    public string DefaultRegion { get; set; } = "us-east-1";

    /// <summary>
    /// Host names that select a registry: <c>{account}</c> and <c>{region}</c> are placeholders.
    /// Requests to any other host use the default registry.
    /// </summary>
    public string HostPattern { get; set; } = "{account}.dkr.ecr.{region}.localhost";

    /// <summary>
    /// Create a repository on its first push even without a matching <c>CREATE_ON_PUSH</c> creation template
    /// (with ECR's defaults); when false, only such a template creates on push, as in ECR.
    /// </summary>
    public bool CreateOnPush { get; set; } = true;
}

public sealed class MetadataOptions
{
    public MetadataBackend Backend { get; set; } = MetadataBackend.Sqlite;

    /// <summary>SQLite: a file path (default <c>&lt;DataDirectory&gt;/wharf.db</c>); PostgreSQL: an Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>Metadata:Postgres:*</c>, read only with the PostgreSQL backend.</summary>
    public PostgresMetadataOptions Postgres { get; set; } = new();
}

/// <summary><c>Metadata:Postgres:*</c>.</summary>
public sealed class PostgresMetadataOptions
{
    /// <summary>
    /// Keep manifest and blob lookups in memory while nothing changed (docs/metadata.md): another node's commit is seen
    /// within 100 ms, this node's at once. False reads the database on every request (strict reads across nodes).
    /// </summary>
    public bool ReadCache { get; set; } = true;
}

public sealed class StorageOptions
{
    public StorageBackend Backend { get; set; } = StorageBackend.FileSystem;

    /// <summary>Filesystem root (default <c>&lt;DataDirectory&gt;/blobs</c>).</summary>
    public string? Path { get; set; }

    /// <summary>
    /// The filesystem store writes pushed bytes with <c>O_DIRECT</c> where the filesystem takes it (no copy into the page
    /// cache); false writes through the page cache.
    /// </summary>
    public bool DirectWrites { get; set; } = true;

    /// <summary>The bucket, when <see cref="Backend"/> is <see cref="StorageBackend.S3"/>.</summary>
    public S3StorageOptions S3 { get; set; } = new();

    /// <summary>How long a presigned download URL lives when downloads go straight to the bucket; null when Wharf streams them.</summary>
    public TimeSpan? DownloadRedirectLifetime => Backend == StorageBackend.S3 && S3.Redirect ? S3.RedirectLifetime : null;
}

/// <summary><c>Storage:S3:*</c>, turned into the store's own options by <see cref="BackendFactory"/>.</summary>
public sealed class S3StorageOptions
{
    /// <summary>The bucket (it must exist; Wharf never creates it).</summary>
    public string? Bucket { get; set; }

    /// <summary>The service URL of an S3-compatible server (<c>http://rgw:7480</c>); empty means AWS S3 in <see cref="Region"/>.</summary>
    public string? Endpoint { get; set; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>Address the bucket in the path (<c>host/bucket/key</c>), as most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A key prefix for every object Wharf writes, so that one bucket can hold other things too.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Static credentials; when both are empty the AWS SDK's default chain (environment, profile, instance role) is used.</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    /// <summary>When the client sends flexible checksums: <c>WhenRequired</c> suits most S3-compatible servers, <c>WhenSupported</c> AWS S3.</summary>
    public S3ChecksumMode Checksums { get; set; } = S3ChecksumMode.WhenRequired;

    /// <summary>
    /// Blob GETs on <c>/v2</c> answer 307 to a presigned URL of the object (as ECR redirects to S3), and
    /// <c>GetDownloadUrlForLayer</c> returns one; clients must then reach the endpoint themselves.
    /// </summary>
    public bool Redirect { get; set; }

    /// <summary>How long a presigned URL stays valid (S3 checks it when a download starts; at most 7 days).</summary>
    public TimeSpan RedirectLifetime { get; set; } = TimeSpan.FromMinutes(15);
}

public sealed class UploadOptions
{
    /// <summary>An upload session expires this long after it started; its staged bytes are then removed.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the expiry job runs.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class GcOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>A blob must have been unreferenced and untouched this long before it is deleted.</summary>
    public TimeSpan GraceWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the GC job runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(30);
}

public sealed class LifecycleOptions
{
    /// <summary>
    /// How often the lifecycle job applies every repository's policy: an image is acted on within this
    /// long of meeting a rule's criteria (ECR: within 24 hours).
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(30);
}

public sealed class ScanningOptions
{
    /// <summary>
    /// How often the scan job requests scans for new pushes and runs requested scans: a pushed image's
    /// findings are ready within about this long plus the scan's own time.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// OSV exports (zip) to download and import, for connected installs; empty (the default) for
    /// air-gapped ones, which import files with <c>wharf vulndb import</c>. Each URL's source is named
    /// from its path as for a file (<c>…/Debian/all.zip</c> → <c>Debian</c>).
    /// </summary>
    public List<string> DatabaseUrls { get; set; } = [];

    /// <summary>How often <see cref="DatabaseUrls"/> are checked for a newer export.</summary>
    public TimeSpan DatabaseRefreshInterval { get; set; } = TimeSpan.FromHours(6);
}

public sealed class ImageOptions
{
    /// <summary>
    /// Pull times (ECR's <c>lastRecordedPullTime</c>) are noted in memory and written this often, so a
    /// pull costs no database write (ECR itself updates it at least once a day).
    /// </summary>
    public TimeSpan PullTimeFlushInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class IdentityOptions
{
    /// <summary>
    /// The 32-byte master key (base64) that seals access-key secrets; created with mode 0600 on first
    /// start when missing (default <c>&lt;DataDirectory&gt;/master.key</c>). Every node must use the same file.
    /// </summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>Where the first start writes the root access key, mode 0600 (default <c>&lt;DataDirectory&gt;/root-credentials</c>).</summary>
    public string? RootCredentialsFile { get; set; }
}

/// <summary>
/// What one caller may use of one node (<see cref="RequestLimits"/>): a caller is an IAM principal (a
/// role session counts apart from its role), or the client's IP address for anonymous callers and in
/// open mode. Each node counts alone: a cluster of N nodes behind a balancer allows N times each number.
/// The defaults leave room for the busiest CI; they stop one caller from flooding a node.
/// </summary>
public sealed class LimitOptions
{
    /// <summary>
    /// Upload sessions (<c>/v2</c> <c>POST …/blobs/uploads/</c>, ECR <c>InitiateLayerUpload</c>) one caller may
    /// hold open in one registry on this node; 0 for no limit. A session ends when it completes, is
    /// cancelled or expires (<see cref="UploadOptions.Expiry"/>).
    /// </summary>
    public int MaxOpenUploadsPerCaller { get; set; } = 1000;

    /// <summary>Reading images: <c>/v2</c> manifests, blobs, referrers and <c>/v2/</c>; <c>BatchGetImage</c>, <c>GetDownloadUrlForLayer</c>, <c>BatchCheckLayerAvailability</c>.</summary>
    public RateOptions Pull { get; set; } = new() { RequestsPerSecond = 5000, Burst = 20000 };

    /// <summary>Writing images: <c>/v2</c> uploads and manifest PUTs; <c>InitiateLayerUpload</c>, <c>UploadLayerPart</c>, <c>CompleteLayerUpload</c>, <c>PutImage</c>.</summary>
    public RateOptions Push { get; set; } = new() { RequestsPerSecond = 2000, Burst = 10000 };

    /// <summary>The other reads: ECR and IAM <c>Describe*</c>, <c>List*</c>, <c>Get*</c>; <c>/v2</c> catalog and tag lists.</summary>
    public RateOptions Read { get; set; } = new() { RequestsPerSecond = 1000, Burst = 5000 };

    /// <summary>The other changes: ECR and IAM creates, deletes, puts, tags; <c>/v2</c> DELETEs.</summary>
    public RateOptions Write { get; set; } = new() { RequestsPerSecond = 500, Burst = 2500 };

    /// <summary>Credentials: ECR <c>GetAuthorizationToken</c>, STS <c>AssumeRole</c> and <c>GetCallerIdentity</c>.</summary>
    public RateOptions Token { get; set; } = new() { RequestsPerSecond = 200, Burst = 2000 };
}

/// <summary>A token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="RequestsPerSecond"/>.</summary>
public sealed class RateOptions
{
    /// <summary>Sustained requests per second; 0 for no limit.</summary>
    public int RequestsPerSecond { get; set; }

    /// <summary>The bucket's size: how many requests may come at once after a quiet spell.</summary>
    public int Burst { get; set; }
}

public sealed class EventOptions
{
    /// <summary>
    /// How long the event log keeps an event: older ones go once every consumer has passed them (a
    /// consumer that has not is named in a warning, and its events are kept for it).
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the pruning job runs.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);
}

public sealed class JobOptions
{
    /// <summary>
    /// How long a job's lease lasts unrenewed. The node running a job renews it every third of this; a
    /// node that dies mid-run leaves the job to the others once it expires.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class ReplicationOptions
{
    /// <summary>How often the event log is read for pushes to replicate, and how often each node looks for due copies.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Copies at once on one node.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>The first retry's delay after a destination failed in a way worth retrying; each further retry doubles it.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest delay between two retries.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after a push its copy is retried before it is <c>FAILED</c>.</summary>
    public TimeSpan MaxRetryWindow { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How long a claim on a copy lasts without renewal; a node renews its claims every third of it while
    /// it copies, so a node that died mid-copy leaves its copies to the others (or to itself, restarted) after this.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The regions served elsewhere (another Wharf, an OCI registry); any other region is this Wharf's own.</summary>
    public Dictionary<string, Replication.RemoteRegionOptions> Regions { get; set; } = new(StringComparer.Ordinal);
}

public sealed class PullThroughCacheOptions
{
    /// <summary>How long a cached tag is served before the upstream is asked again whether it moved (ECR: 24 hours).</summary>
    public TimeSpan TagFreshness { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Accept <c>http://</c> upstream URLs in rules (loopback tests, labs). Off: only HTTPS upstreams.</summary>
    public bool AllowInsecureUpstreams { get; set; }

    /// <summary>How long one request to an upstream may take before it counts as unavailable (a blob's bytes excepted: they stream).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class PublicOptions
{
    /// <summary>Serve public registries at all (their listener, host name and gallery).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The public listener's port, on the same <c>Address</c> as the main one (0: any free port; tests).</summary>
    public int Port { get; set; } = 5001;

    /// <summary>
    /// A host name whose requests on the main port are the public address's (e.g. <c>public.example.com</c>,
    /// where DNS points it here); also the authority repository URIs show. Null: only the public listener.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>Anonymous image pulls per source address (ECR Public: 1 per second).</summary>
    public RateOptions AnonymousPulls { get; set; } = new() { RequestsPerSecond = 1, Burst = 10 };

    /// <summary>Authenticated image pulls per account (ECR Public: 10 per second).</summary>
    public RateOptions AuthenticatedPulls { get; set; } = new() { RequestsPerSecond = 10, Burst = 100 };

    /// <summary>Bytes anonymous pulls may take per source address per calendar month, UTC (ECR Public: 500 GB). 0: no cap.</summary>
    public long AnonymousMonthlyBytes { get; set; } = 500_000_000_000;

    /// <summary>
    /// How often each node adds the anonymous bytes it sent to the metadata store's monthly totals (and at
    /// shutdown): with a short cache of those totals, how late one node sees another's bytes.
    /// </summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class ConsoleOptions
{
    /// <summary>Serve the web console under <c>/console/</c> on the main port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A session unused this long ends (the next page asks to sign in again).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A session ends this long after sign-in however active it is (the AWS console's 12 hours).</summary>
    public TimeSpan AbsoluteTimeout { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Failed sign-ins allowed per user name and per source address within <see cref="SignInWindow"/> before further attempts wait.</summary>
    public int SignInFailures { get; set; } = 5;

    /// <summary>The window <see cref="SignInFailures"/> counts in.</summary>
    public TimeSpan SignInWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Rows per page of every console list.</summary>
    public int PageSize { get; set; } = 50;
}
