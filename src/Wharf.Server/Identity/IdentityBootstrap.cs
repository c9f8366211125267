using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Identity;
using Wharf.Core.Primitives;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>
/// First start in IAM mode: creates the default account and a root access key, prints the key once and
/// writes it to a 0600 file in AWS's credentials-file format. Later starts find a key and say nothing.
/// </summary>
internal sealed partial class IdentityBootstrap(IdentityService identities, IOptions<WharfOptions> options, ILogger<IdentityBootstrap> logger)
{
    public static string CredentialsPathFor(WharfOptions options) =>
        Path.GetFullPath(options.Identity.RootCredentialsFile ?? Path.Combine(options.DataDirectory, "root-credentials"));

    /// <summary>Returns the created key id and secret, or null when the root already had a key.</summary>
    public async Task<(string Id, string Secret)?> RunAsync(TextWriter console, CancellationToken cancellationToken)
    {
        var account = AccountId.Parse(options.Value.Registry.DefaultAccount);
        if (await identities.IssueFirstRootKeyAsync(account, cancellationToken) is not { } key)
        {
            return null;
        }

        var (id, secret) = (key.Record.Id, key.Secret);

        var path = CredentialsPathFor(options.Value);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        MasterKey.WriteOwnerOnly(path, $"[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = {options.Value.Registry.DefaultRegion}\n");
        await console.WriteLineAsync(
            $"""
            Created account {account} with a root access key. It is shown only now; it is also in {path} (mode 0600).
              AWS_ACCESS_KEY_ID={id}
              AWS_SECRET_ACCESS_KEY={secret}
            """);
        LogCreated(logger, account.Value, id, path);
        return (id, secret);
    }

    // The secret is never logged: only the key id and where the file is.
    [LoggerMessage(EventId = WharfEventId.RootKeyCreated, Level = LogLevel.Warning, Message = "Created the root access key {KeyId} of account {Account}; credentials written to {Path}")]
    private static partial void LogCreated(ILogger logger, string account, string keyId, string path);
}
