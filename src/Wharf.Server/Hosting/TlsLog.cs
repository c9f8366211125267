namespace Wharf.Server.Hosting;

/// <summary>TLS's log messages: names, thumbprints and dates of certificates, never key material.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = WharfEventId.TlsCertificateLoaded, Level = LogLevel.Information, Message = "TLS certificate {How}: {Subject}, thumbprint {Thumbprint}, valid until {NotAfter:u} (from {Path})")]
    public static partial void CertificateLoaded(ILogger logger, string how, string subject, string thumbprint, DateTime notAfter, string path);

    [LoggerMessage(EventId = WharfEventId.TlsReloadFailed, Level = LogLevel.Warning, Message = "TLS certificate files changed but do not load ({Reason}); still serving the certificate with thumbprint {Thumbprint} until they do")]
    public static partial void ReloadFailed(ILogger logger, string reason, string thumbprint);

    [LoggerMessage(EventId = WharfEventId.TlsWatchFailed, Level = LogLevel.Warning, Message = "Cannot watch {Directory} for certificate changes ({Reason}); they are noticed by a check every few seconds instead")]
    public static partial void WatchFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = WharfEventId.TlsCertificateExpired, Level = LogLevel.Warning, Message = "The TLS certificate with thumbprint {Thumbprint} expired at {NotAfter:u}; clients will refuse it until {Path} is replaced")]
    public static partial void CertificateExpired(ILogger logger, string thumbprint, DateTime notAfter, string path);

    [LoggerMessage(EventId = WharfEventId.TlsRenewalFailed, Level = LogLevel.Warning, Message = "Could not issue the self-signed server certificate again ({Reason}); will try again in an hour")]
    public static partial void RenewalFailed(ILogger logger, string reason);
}
