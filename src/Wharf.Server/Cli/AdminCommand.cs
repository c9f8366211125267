using System.CommandLine;
using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;
using Wharf.Server.Hosting;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>wharf admin</c>: accounts, users, access keys, console passwords, policies and public registries, written through the identity service's
/// operator writes straight to the metadata store (works offline, and beside a running server) — for
/// bootstrapping and for recovering a lost root key.
/// </summary>
internal static class AdminCommand
{
    /// <summary><c>wharf admin list-token-keys --json</c>: the keys' names only (never their bytes).</summary>
    internal sealed record TokenKeysResult(IReadOnlyList<TokenKeyResult> Keys);

    /// <summary>One key: its name, its family (auth, page, download, bearer), and whether it signs new tokens.</summary>
    internal sealed record TokenKeyResult(string Name, TokenPurpose Purpose, bool Signing);

    private static readonly Option<string?> Account = new("--account") { Description = "12-digit account id (default: Registry:DefaultAccount)" };
    private static readonly Option<string?> User = new("--user") { Description = "IAM user name; without it, the account's root" };

    public static Command Create()
    {
        var admin = new Command("admin", "Manage accounts, users, access keys, console passwords, policies, token keys and public registries directly in the metadata store (IAM mode).");

        var accountId = new Argument<string>("account-id") { Description = "the 12-digit id of the new account" };
        var createAccount = new Command("create-account", "Create an account with its root principal.") { accountId };
        createAccount.SetAction((parse, ct) => RunAsync(parse, async (_, identities, _, _) =>
        {
            if (!AccountId.TryParse(parse.GetValue(accountId), out var id))
            {
                return Fail($"'{parse.GetValue(accountId)}' is not a 12-digit account id");
            }

            Console.WriteLine(await identities.CreateAccountAsync(id, ct) ? $"created account {id}" : $"account {id} already exists");
            return 0;
        }, ct));

        var userName = new Argument<string>("name") { Description = "the user name" };
        var createUser = new Command("create-user", "Create an IAM user (it can do nothing until a policy allows it).") { Account, userName };
        createUser.SetAction((parse, ct) => RunAsync(parse, async (_, identities, account, _) =>
        {
            var user = await identities.CreateUserAsync(account, parse.GetValue(userName)!, ct);
            if (user is null)
            {
                return Fail($"user '{parse.GetValue(userName)}' already exists in account {account}");
            }

            Console.WriteLine(user.Arn);
            return 0;
        }, ct));

        var createKey = new Command("create-access-key", "Create an access key for a user, or for the account's root; prints it once.") { Account, User };
        createKey.SetAction((parse, ct) => RunAsync(parse, async (_, identities, account, principal) =>
        {
            if (await identities.IssueAccessKeyAsync(account, principal, ct) is not { } key)
            {
                return Fail($"{principal} does not exist");
            }

            Console.WriteLine($"AWS_ACCESS_KEY_ID={key.Record.Id}");
            Console.WriteLine($"AWS_SECRET_ACCESS_KEY={key.Secret}");
            return 0;
        }, ct));

        var resetRequired = new Option<bool>("--reset-required") { Description = "make the user choose a new password at its next console sign-in" };
        var setPassword = new Command(
            "set-password",
            "Set the console password of the account's root (or, with --user, an IAM user), creating its login profile when it has none; ends its console sessions. The password is read from standard input (printf '%s' \"$PASSWORD\" | wharf admin set-password), never from the command line; at a terminal it is asked for without echo. AWS's default password policy applies: 8 to 128 characters with at least three of uppercase letters, lowercase letters, numbers and symbols.")
        {
            Account,
            User,
            resetRequired,
        };
        setPassword.SetAction((parse, ct) => RunAsync(parse, async (_, identities, _, principal) =>
        {
            if (await ReadPasswordAsync(ct) is not { } password)
            {
                return Fail("no password on standard input; pipe it in, e.g. printf '%s' \"$PASSWORD\" | wharf admin set-password");
            }

            try
            {
                if (!await identities.SetPasswordAsync(principal, password, parse.GetValue(resetRequired), ct))
                {
                    return Fail($"{principal} does not exist");
                }
            }
            catch (WharfException e) when (e.Code is WharfErrorCode.PasswordPolicyViolation or WharfErrorCode.IamValidation)
            {
                return Fail(e.Code == WharfErrorCode.IamValidation ? "the password may hold only tabs, line breaks and characters U+0020 to U+00FF" : e.Message);
            }

            Console.WriteLine($"password set for {principal}");
            return 0;
        }, ct));

        var policyName = new Option<string>("--policy-name") { Required = true, Description = "name of the inline policy" };
        var document = new Option<string>("--policy-document") { Required = true, Description = "the policy JSON, or @path (or file://path, as the AWS CLI takes it) to read it from a file" };
        var putPolicy = new Command("put-user-policy", "Add or replace an inline identity policy of a user.") { Account, User, policyName, document };
        putPolicy.SetAction((parse, ct) => RunAsync(parse, async (_, identities, _, principal) =>
        {
            if (await ReadDocumentAsync(parse.GetValue(document)!, ct) is not { } text)
            {
                return WharfCli.ExitInvalid;
            }

            try
            {
                return await identities.PutInlinePolicyAsync(principal, parse.GetValue(policyName)!, text, ct) ? 0 : Fail($"{principal} does not exist");
            }
            catch (PolicyFormatException e)
            {
                return Fail(e.Message);
            }
        }, ct));

        var policyArn = new Option<string>("--policy-arn") { Required = true, Description = $"one of: {string.Join(", ", ManagedPolicies.Arns)}" };
        var attach = new Command("attach-user-policy", "Attach an AWS managed ECR policy to a user.") { Account, User, policyArn };
        attach.SetAction((parse, ct) => RunAsync(parse, async (_, identities, _, principal) =>
        {
            var arn = parse.GetValue(policyArn)!;
            if (ManagedPolicies.Find(arn) is null)
            {
                return Fail($"'{arn}' is not a managed policy Wharf knows; use one of {string.Join(", ", ManagedPolicies.Arns)}");
            }

            return await identities.AttachManagedPolicyAsync(principal, arn, ct) ? 0 : Fail($"{principal} does not exist");
        }, ct));

        var purposeOption = new Option<TokenPurpose?>("--purpose") { HelpName = "auth|page|download|bearer", Description = "only this family: auth (GetAuthorizationToken passwords), page (nextTokens), download (GetDownloadUrlForLayer URLs) or bearer (the public address's realm tokens); default all four" };
        var revokePrevious = new Option<bool>("--revoke-previous") { Description = "also delete the previous keys: every token they signed stops working (after a leak)" };
        var rotate = new Command(
            "rotate-token-key",
            "Add a new signing key to each token key family (auth, page, download, bearer) and print its name. New tokens use it; tokens signed before keep working until they expire (passwords and bearer tokens 12 h, download URLs 15 min) unless --revoke-previous. Running servers pick it up within a minute.")
        {
            purposeOption,
            revokePrevious,
        };
        rotate.SetAction((parse, ct) => RunAsync(parse, async (store, _, _, _) =>
        {
            foreach (var purpose in parse.GetValue(purposeOption) is { } one ? new[] { one } : Enum.GetValues<TokenPurpose>())
            {
                Console.WriteLine(await TokenKeyRing.RotateAsync(store.Keys, purpose, parse.GetValue(revokePrevious), DateTimeOffset.UtcNow, ct));
            }

            return 0;
        }, ct));

        var keyName = new Argument<string>("key") { Description = "the key's name, as list-token-keys and rotate-token-key print it (e.g. auth-tokens-1)" };
        var revokeKey = new Command(
            "revoke-token-key",
            "Delete one token signing key: every token it signed (password, nextToken or download URL) stops working, on running servers within a minute. The newest key of a family signs; rotate first to revoke it.")
        {
            keyName,
        };
        revokeKey.SetAction((parse, ct) => RunAsync(parse, async (store, _, _, _) =>
        {
            var name = parse.GetValue(keyName)!;
            if (!TokenKeyRing.TryParseKeyName(name, out var purpose, out var id))
            {
                return Fail($"'{name}' is not a token key name; wharf admin list-token-keys prints them");
            }

            switch (await TokenKeyRing.RevokeAsync(store.Keys, purpose, id, ct))
            {
                case null:
                    return Fail($"there is no token key {name}");
                case false:
                    return Fail($"{name} is the key new tokens are signed with; run wharf admin rotate-token-key --purpose {TokenCodec.NameOf(purpose)} --revoke-previous to replace it and end what it signed");
            }

            Console.WriteLine($"revoked {name}");
            return 0;
        }, ct));

        var listKeys = new Command("list-token-keys", "List the token signing keys by name, oldest first; the last of each family signs new tokens, all of them verify.") { CliOptions.Json };
        listKeys.SetAction((parse, ct) => RunAsync(parse, async (store, _, _, _) =>
        {
            var keys = new List<TokenKeyResult>();
            foreach (var purpose in Enum.GetValues<TokenPurpose>())
            {
                var family = await TokenKeyRing.ListAsync(store.Keys, purpose, ct);
                keys.AddRange(family.Select(k => new TokenKeyResult(TokenKeyRing.KeyName(purpose, k.Id), purpose, k.Id == family[^1].Id)));
            }

            if (parse.GetValue(CliOptions.Json))
            {
                CliJson.Write(new TokenKeysResult(keys));
                return 0;
            }

            foreach (var key in keys)
            {
                Console.WriteLine(key.Name + (key.Signing ? " (signing)" : string.Empty));
            }

            return 0;
        }, ct));

        var alias = new Option<string?>("--alias") { Description = "give the public registry this alias as its primary one (ECR Public's rule: 2-50 characters, [a-z][a-z0-9]+ with single . _ or - between; unique across accounts); the default alias stays" };
        var verified = new Option<bool?>("--verified") { HelpName = "true|false", Description = "mark the public registry verified (the gallery shows its display name and logos) or not" };
        var publicRegistry = new Command(
            "public-registry",
            "Show an account's public registry (ECR Public): its aliases, which is primary and which the default, and whether it is verified; with --alias or --verified, change it first (making the registry, with a default alias, when the account has none).")
        {
            Account,
            alias,
            verified,
        };
        publicRegistry.SetAction((parse, ct) => RunAsync(parse, async (store, _, account, _) =>
        {
            var registries = new PublicRegistryService(store, new OpenAccessAuthorizer(), TimeProvider.System);
            PublicRegistryRecord? registry;
            try
            {
                if (parse.GetValue(alias) is { } chosen)
                {
                    await registries.SetAliasAsync(account, chosen, ct);
                }

                if (parse.GetValue(verified) is { } isVerified)
                {
                    await registries.SetVerifiedAsync(account, isVerified, ct);
                }

                registry = await registries.GetRegistryAsync(account, ct);
            }
            catch (WharfException e) when (e.Code is WharfErrorCode.InvalidParameter or WharfErrorCode.RegistryAliasTaken)
            {
                return Fail(e.Code == WharfErrorCode.RegistryAliasTaken
                    ? $"the alias '{parse.GetValue(alias)}' belongs to another account's public registry; choose another"
                    : $"'{parse.GetValue(alias)}' is not a registry alias: 2 to 50 characters, a lowercase letter then lowercase letters or digits, with single '.', '_' or '-' between them");
            }

            if (registry is null)
            {
                return Fail($"account {account} has no public registry yet; it gets one with its first public repository, or with --alias or --verified");
            }

            Console.WriteLine($"account: {registry.Account}");
            foreach (var a in registry.Aliases)
            {
                var roles = string.Join(", ", new[] { a.Primary ? "primary" : null, a.Default ? "default" : null }.OfType<string>());
                Console.WriteLine($"alias: {a.Name}{(roles.Length > 0 ? $" ({roles})" : "")}{(a.Status == RegistryAliasStatus.Active ? "" : $" [{a.Status.ToString().ToUpperInvariant()}]")}");
            }

            Console.WriteLine($"verified: {(registry.Verified ? "true" : "false")}");
            if (registry.DisplayName is { } displayName)
            {
                Console.WriteLine($"display name: {displayName}");
            }

            return 0;
        }, ct));

        admin.Subcommands.Add(createAccount);
        admin.Subcommands.Add(createUser);
        admin.Subcommands.Add(createKey);
        admin.Subcommands.Add(setPassword);
        admin.Subcommands.Add(putPolicy);
        admin.Subcommands.Add(attach);
        admin.Subcommands.Add(rotate);
        admin.Subcommands.Add(revokeKey);
        admin.Subcommands.Add(listKeys);
        WebhookCommand.AddTo(admin);
        admin.Subcommands.Add(publicRegistry);
        return admin;
    }

    private static async Task<int> RunAsync(
        ParseResult parse,
        Func<IMetadataStore, IdentityService, AccountId, string, Task<int>> action,
        CancellationToken cancellationToken)
    {
        if (await CliHost.BuildAsync(parse, listening: false, cancellationToken) is not { } app)
        {
            return WharfCli.ExitInvalid;
        }

        await using (app)
        {
            var options = app.Services.GetRequiredService<IOptions<WharfOptions>>().Value;
            var accountText = parse.GetValue(Account) ?? options.Registry.DefaultAccount;
            if (!AccountId.TryParse(accountText, out var account))
            {
                return Fail($"'{accountText}' is not a 12-digit account id");
            }

            var user = parse.GetValue(User);
            var principal = user is null ? Caller.Root(account).PrincipalArn : $"arn:aws:iam::{account}:user/{user}";
            var store = app.Services.GetRequiredService<IMetadataStore>();
            await store.MigrateAsync(cancellationToken);
            return await action(store, app.Services.GetRequiredService<IdentityService>(), account, principal);
        }
    }

    /// <summary>
    /// The document itself, or the contents of the file that <c>@path</c> or <c>file://path</c> names
    /// (a relative path is from the working directory); null, after saying why, when it cannot be read.
    /// </summary>
    private static async Task<string?> ReadDocumentAsync(string value, CancellationToken cancellationToken)
    {
        var path = value.StartsWith('@') ? value[1..]
            : value.StartsWith("file://", StringComparison.Ordinal) ? value["file://".Length..]
            : null;
        if (path is null)
        {
            return value;
        }

        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            WharfCli.Fail($"the policy document file '{path}' does not exist; pass --policy-document with the JSON itself, @path or file://path");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            WharfCli.Fail($"cannot read the policy document file '{path}': {WharfCli.OneLine(e)}");
        }

        return null;
    }

    /// <summary>
    /// The password from standard input (one line, as <c>docker login --password-stdin</c> takes it), or at a
    /// terminal typed twice without echo; null when there is none or the two differ.
    /// </summary>
    private static async Task<string?> ReadPasswordAsync(CancellationToken cancellationToken)
    {
        if (Console.IsInputRedirected)
        {
            var text = await Console.In.ReadToEndAsync(cancellationToken);
            var line = text.TrimEnd('\r', '\n');
            return line.Length == 0 ? null : line;
        }

        var first = ReadHidden("Password: ");
        var second = ReadHidden("Confirm password: ");
        if (first != second)
        {
            WharfCli.Fail("the passwords do not match");
            return null;
        }

        return first.Length == 0 ? null : first;
    }

    private static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var typed = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return typed.ToString();
    }

    private static int Fail(string message)
    {
        WharfCli.Fail(message);
        return 1;
    }
}
