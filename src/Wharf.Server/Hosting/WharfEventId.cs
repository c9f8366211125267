namespace Wharf.Server.Hosting;

/// <summary>
/// Every log event id of the server, by area (Npgsql's <c>NpgsqlEventId</c> is the model): 1000s
/// hosting and health, 1100s request errors, 1200s background jobs, 1300s authorisation (Core's
/// <c>PolicyAuthorizer</c> logs 1300, each decision at debug level). A new message takes the next id
/// of its area; ids are never reused.
/// </summary>
internal static class WharfEventId
{
    public const int OpenModeWarning = 1000;
    public const int Listening = 1001;
    public const int RootKeyCreated = 1003;
    public const int NotReady = 1002;
    public const int BlobStoreNotReady = 1004;
    public const int PublicListening = 1005;
    public const int IdleTrimmed = 1006;
    public const int StartPagesReleased = 1007;

    public const int UnhandledRequestError = 1100;
    public const int UnhandledApiError = 1101;
    public const int UnhandledQueryError = 1102;
    public const int BadRequestBody = 1103;
    public const int BlobStoreUnavailable = 1104;

    public const int JobFinished = 1200;
    public const int JobFailed = 1201;
    public const int JobLeaseHeld = 1202;
    public const int PullFlushFailed = 1203;
    public const int JobIdle = 1204;
    public const int ScanFault = 1205;
    public const int VulnerabilityDownload = 1206;
    public const int EventConsumerLagging = 1207;
    public const int JobLeaseLost = 1208;
    public const int JobLeaseRenewalFailed = 1209;
    public const int ReplicationFault = 1210;
    public const int ReplicationCopied = 1211;

    public const int PolicyDecision = 1300;

    // 1500s: replication to remote regions (another Wharf, a plain OCI registry).
    public const int RemoteReplicated = 1500;

    // 1600s: pull-through cache (Core's UpstreamBlobFetcher logs 1600 and 1601).
    public const int UpstreamBlobFetched = 1600;
    public const int UpstreamBlobFetchFailed = 1601;

    // 1700s: public registries' fair-use limits.
    public const int PublicUsageFlushFailed = 1700;
    public const int PublicUsageUncounted = 1701;

    // 1800s: the web console (sign-ins, sessions, page faults).
    public const int ConsolePageFault = 1800;
    public const int ConsoleSignIn = 1801;
    public const int ConsoleSignInFailed = 1802;

    // 2900s: TLS (certificates loaded and reloaded, the self-signed CA).
    public const int TlsCertificateLoaded = 2900;
    public const int TlsReloadFailed = 2901;
    public const int TlsWatchFailed = 2902;
    public const int TlsCertificateExpired = 2903;
    public const int TlsRenewalFailed = 2904;

    // 2400s: webhooks (delivery failures, dead letters, settings synchronised at start).
    public const int WebhookAttemptFailed = 2400;
    public const int WebhookDeadLettered = 2401;
    public const int WebhookSettingsSynchronised = 2402;

    // 2500s: the command line and `wharf status` (the scheduler's record of each job run).
    public const int JobRunNotRecorded = 2500;

    // 2300s: the audit trail (issue 20, point 3).
    public const int AuditDropped = 2300;
    public const int AuditWriteFailed = 2301;
    public const int AuditFileFailed = 2302;
    public const int AuditRetrying = 2303;

    // 1900s: telemetry (the per-request log line, the metrics gauges).
    public const int RequestCompleted = 1900;
    public const int MetricsGaugesFailed = 1901;

    // 3100s: the KMS-compatible key service (issue 21, point 2).
    public const int KmsKeyDeleted = 3100;

    // 3150s: repositories encrypted with KMS keys (issue 21, point 3); Core's RepositoryEncryption logs these.
    public const int KmsRepositoryKeyPendingDeletion = 3150;
    public const int KmsRepositoryKeyResolved = 3151;

    // 3300s: encrypting an existing install (issue 21 point 4: the encrypt job).
    public const int EncryptionBlobNotSealed = 3300;
    public const int EncryptionProgress = 3301;
}
