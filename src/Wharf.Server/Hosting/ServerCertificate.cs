using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wharf.Server.Hosting;

/// <summary>
/// The certificate every TLS handshake is served, read from its PEM files and read again when they change:
/// a file watcher on their directories (debounced, since a rotation writes two files) and, for file systems
/// whose events do not arrive, a check of the files' write times and sizes every few seconds. A pair that
/// does not load — a half-written rotation, a key of another certificate — never replaces the one in use:
/// it is logged and the next change is tried again. The certificate, its key and its chain are one object
/// swapped whole, so a handshake reads one reference and never a certificate with another's key.
/// </summary>
internal sealed partial class ServerCertificate : IDisposable
{
    private static readonly TimeSpan DebounceDelay = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RenewalRetryInterval = TimeSpan.FromHours(1);

    private readonly string certificatePath;
    private readonly string keyPath;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Func<DateTimeOffset, bool>? renew;
    private readonly List<FileSystemWatcher> watchers = [];
    private readonly ITimer debounce;
    private readonly ITimer poll;

    // Reloads come from timers only, one at a time; handshakes never take it.
    private readonly Lock reloadGate = new();
    private volatile LoadedCertificate current;
    private FileStamp currentStamp;
    private FileStamp? failedStamp;
    private DateTimeOffset nextRenewal;

    // renew: for a self-signed certificate, issues the files again (returns whether it did); called when the one in use nears its end.
    // pollInterval: how often the files' stamps are compared (and a self-signed certificate's end checked); tests on a fake clock lengthen it.
    public ServerCertificate(string certificatePath, string keyPath, ILogger logger, TimeProvider time, SelfSignedCertificates? selfSigned = null, Func<DateTimeOffset, bool>? renew = null, TimeSpan? pollInterval = null)
    {
        this.certificatePath = Path.GetFullPath(certificatePath);
        this.keyPath = Path.GetFullPath(keyPath);
        this.logger = logger;
        this.time = time;
        this.renew = renew;
        SelfSigned = selfSigned;
        currentStamp = FileStamp.Read(this.certificatePath, this.keyPath);
        current = TlsCertificateFiles.Load(this.certificatePath, this.keyPath);
        Loaded(current.Leaf, "loaded");

        debounce = time.CreateTimer(_ => Reload(force: true), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        poll = time.CreateTimer(_ => Poll(), null, pollInterval ?? PollInterval, pollInterval ?? PollInterval);
        foreach (var directory in new[] { Path.GetDirectoryName(this.certificatePath)!, Path.GetDirectoryName(this.keyPath)! }.Distinct(StringComparer.Ordinal))
        {
            try
            {
                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                watcher.Changed += OnChanged;
                watcher.Created += OnChanged;
                watcher.Deleted += OnChanged;
                watcher.Renamed += OnChanged;
                watcher.Error += (_, _) => debounce.Change(DebounceDelay, Timeout.InfiniteTimeSpan); // events lost: look anyway
                watcher.EnableRaisingEvents = true;
                watchers.Add(watcher);
            }
            catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
            {
                // Out of inotify watches, say: the poll still sees changes, a few seconds later.
                TlsLog.WatchFailed(logger, directory, e.Message);
            }
        }
    }

    /// <summary>The certificate, key and chain to serve now.</summary>
    public SslStreamCertificateContext Context => current.Context;

    /// <summary>The certificate served now (with its private key: never log or export it).</summary>
    public X509Certificate2 Certificate => current.Leaf;

    /// <summary>The local CA's files, when the certificate is <c>--tls self-signed</c>'s.</summary>
    public SelfSignedCertificates? SelfSigned { get; }

    /// <summary>The outcome of the self-signed files' check at start (created, reused), when self-signed.</summary>
    public SelfSignedCertificates.Outcome? SelfSignedOutcome { get; init; }

    private void OnChanged(object sender, FileSystemEventArgs e) => debounce.Change(DebounceDelay, Timeout.InfiniteTimeSpan);

    private void Poll()
    {
        if (renew is not null && SelfSignedCertificates.NeedsRenewal(current.Leaf, time.GetUtcNow()) && time.GetUtcNow() >= nextRenewal)
        {
            nextRenewal = time.GetUtcNow() + RenewalRetryInterval;
            try
            {
                renew(time.GetUtcNow());
                Reload(force: true);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or InvalidOperationException)
            {
                TlsLog.RenewalFailed(logger, e.Message);
            }
        }

        Reload(force: false);
    }

    /// <summary>Loads the files again if they changed (<paramref name="force"/>: whatever their stamps say, after a file event).</summary>
    internal void Reload(bool force)
    {
        lock (reloadGate)
        {
            FileStamp stamp;
            try
            {
                stamp = FileStamp.Read(certificatePath, keyPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stamp = default;
            }

            if (!force && (stamp == currentStamp || stamp == failedStamp))
            {
                return;
            }

            LoadedCertificate next;
            try
            {
                next = TlsCertificateFiles.Load(certificatePath, keyPath);
            }
            catch (Exception e) when (e is TlsCertificateException or CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                // A timer's callback: whatever the files hold, the process keeps serving the certificate it has.
                if (stamp != failedStamp && logger.IsEnabled(LogLevel.Warning))
                {
                    TlsLog.ReloadFailed(logger, e.Message, current.Leaf.Thumbprint);
                }

                failedStamp = stamp;
                return;
            }

            failedStamp = null;
            currentStamp = stamp;
            if (next.ContentHash.AsSpan().SequenceEqual(current.ContentHash))
            {
                return;
            }

            // Handshakes in progress keep the context they read; the old one is left to the collector.
            current = next;
            Loaded(next.Leaf, "reloaded");
        }
    }

    private void Loaded(X509Certificate2 leaf, string how)
    {
        var notAfter = leaf.NotAfter.ToUniversalTime();
        TlsLog.CertificateLoaded(logger, how, leaf.Subject, leaf.Thumbprint, notAfter, certificatePath);
        if (notAfter < time.GetUtcNow().UtcDateTime)
        {
            TlsLog.CertificateExpired(logger, leaf.Thumbprint, notAfter, certificatePath);
        }
    }

    public void Dispose()
    {
        foreach (var watcher in watchers)
        {
            watcher.Dispose();
        }

        debounce.Dispose();
        poll.Dispose();
    }

    /// <summary>What the cheap check compares: both files' write times and sizes.</summary>
    private readonly record struct FileStamp(DateTime CertificateWritten, long CertificateLength, DateTime KeyWritten, long KeyLength)
    {
        public static FileStamp Read(string certificate, string key)
        {
            var c = new FileInfo(certificate);
            var k = new FileInfo(key);
            return new FileStamp(
                c.Exists ? c.LastWriteTimeUtc : default,
                c.Exists ? c.Length : -1,
                k.Exists ? k.LastWriteTimeUtc : default,
                k.Exists ? k.Length : -1);
        }
    }
}
