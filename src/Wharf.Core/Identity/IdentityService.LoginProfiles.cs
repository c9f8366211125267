using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Security;

namespace Wharf.Core.Identity;

/// <summary>
/// IAM's login profiles: the password a user signs in to the console with. Each operation is authorised
/// as its <c>iam:</c> action on the user's ARN; passwords are checked against AWS's default password
/// policy and stored only as <see cref="Passwords"/>' hash. Changing or deleting a password ends the
/// user's console sessions, so a password an administrator replaced stops working at once.
/// </summary>
public sealed partial class IdentityService
{
    /// <summary>AWS's default password policy's shortest password.</summary>
    public const int MinPasswordLength = 8;

    public async Task<LoginProfileRecord> CreateLoginProfileAsync(Caller caller, string? name, string password, bool resetRequired, CancellationToken cancellationToken)
    {
        var (arn, shown) = await LoginUserAsync(caller, "iam:CreateLoginProfile", name, cancellationToken);
        CheckPassword(password, "password");
        var profile = new LoginProfileRecord(arn, Passwords.Hash(password), resetRequired, time.GetUtcNow());
        return await store.Logins.CreateLoginProfileAsync(profile, cancellationToken)
            ? profile
            : await store.Identities.GetPrincipalAsync(arn, cancellationToken) is null
                ? throw NoSuchUser(shown)
                : throw new WharfException(WharfErrorCode.EntityAlreadyExists, $"Login Profile for user {shown} already exists.");
    }

    public async Task<LoginProfileRecord> GetLoginProfileAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var (arn, shown) = await LoginUserAsync(caller, "iam:GetLoginProfile", name, cancellationToken);
        return await store.Logins.GetLoginProfileAsync(arn, cancellationToken) ?? throw NoLoginProfile(shown);
    }

    /// <summary>Sets a new password and/or the reset flag; a new password ends the user's console sessions.</summary>
    public async Task UpdateLoginProfileAsync(Caller caller, string? name, string? password, bool? resetRequired, CancellationToken cancellationToken)
    {
        var (arn, shown) = await LoginUserAsync(caller, "iam:UpdateLoginProfile", name, cancellationToken);
        if (password is not null)
        {
            CheckPassword(password, "password");
        }

        var current = await store.Logins.GetLoginProfileAsync(arn, cancellationToken) ?? throw NoLoginProfile(shown);
        var updated = current with
        {
            PasswordHash = password is null ? current.PasswordHash : Passwords.Hash(password),
            PasswordResetRequired = resetRequired ?? current.PasswordResetRequired,
        };
        if (!await store.Logins.UpdateLoginProfileAsync(updated, cancellationToken))
        {
            throw NoLoginProfile(shown);
        }

        if (password is not null)
        {
            await EndSessionsAsync(arn, cancellationToken);
        }
    }

    /// <summary>Deletes the user's password and ends its password sessions (access-key sessions go on, as its keys do).</summary>
    public async Task DeleteLoginProfileAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var (arn, shown) = await LoginUserAsync(caller, "iam:DeleteLoginProfile", name, cancellationToken);
        if (!await store.Logins.DeleteLoginProfileAsync(arn, cancellationToken))
        {
            throw NoLoginProfile(shown);
        }
    }

    /// <summary>
    /// The caller's own password (IAM's <c>ChangePassword</c>): allowed <c>iam:ChangePassword</c> on its own
    /// ARN, the old password verified, the new one within the policy. Clears a required reset and ends the
    /// caller's console sessions (the console signs the caller in again with the new password).
    /// </summary>
    public async Task ChangePasswordAsync(Caller caller, string oldPassword, string newPassword, CancellationToken cancellationToken)
    {
        if (caller.IsRoleSession || caller.IsAnonymous)
        {
            throw new WharfException(WharfErrorCode.IamInvalidInput, "Only IAM users can change their own password.");
        }

        await authorizer.AuthorizeAsync(caller, "iam:ChangePassword", caller.PrincipalArn, cancellationToken);
        var shown = caller.IsRoot ? "root" : caller.PrincipalArn.Split('/')[^1];
        var current = await store.Logins.GetLoginProfileAsync(caller.PrincipalArn, cancellationToken) ?? throw NoLoginProfile(shown);
        if (!Passwords.Verify(oldPassword, current.PasswordHash))
        {
            throw new WharfException(WharfErrorCode.Denied, "The old password is not correct.");
        }

        CheckPassword(newPassword, "newPassword");
        if (!await store.Logins.UpdateLoginProfileAsync(current with { PasswordHash = Passwords.Hash(newPassword), PasswordResetRequired = false }, cancellationToken))
        {
            throw NoLoginProfile(shown);
        }

        await EndSessionsAsync(caller.PrincipalArn, cancellationToken);
    }

    /// <summary>
    /// Operator write (<c>wharf admin set-password</c>): sets the password of a user or an account's root,
    /// creating its login profile when it has none, and ends its console sessions. Throws a
    /// <see cref="WharfException"/> when the password breaks the policy; false when the principal does not exist.
    /// </summary>
    public async Task<bool> SetPasswordAsync(string principalArn, string password, bool resetRequired, CancellationToken cancellationToken)
    {
        CheckPassword(password, "password");
        var profile = new LoginProfileRecord(principalArn, Passwords.Hash(password), resetRequired, time.GetUtcNow());
        if (!await store.Logins.CreateLoginProfileAsync(profile, cancellationToken) && !await store.Logins.UpdateLoginProfileAsync(profile, cancellationToken))
        {
            return false;
        }

        await EndSessionsAsync(principalArn, cancellationToken);
        return true;
    }

    /// <summary>
    /// AWS's default password policy: 8 to 128 characters of IAM's password alphabet, with at least three of
    /// uppercase letters, lowercase letters, digits and symbols. The password itself is never in a message.
    /// </summary>
    public static void CheckPassword(string password, string member)
    {
        if (password.Length == 0 || password.Any(c => c is not ('\t' or '\n' or '\r' or (>= ' ' and <= '\u00FF'))))
        {
            throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
        }

        if (password.Length < MinPasswordLength)
        {
            throw new WharfException(WharfErrorCode.PasswordPolicyViolation, $"Password should have a minimum length of {MinPasswordLength}");
        }

        if (password.Length > Passwords.MaxLength)
        {
            throw new WharfException(WharfErrorCode.PasswordPolicyViolation, $"Password should have a maximum length of {Passwords.MaxLength}");
        }

        var kinds = (password.Any(char.IsAsciiLetterUpper) ? 1 : 0) + (password.Any(char.IsAsciiLetterLower) ? 1 : 0)
            + (password.Any(char.IsAsciiDigit) ? 1 : 0) + (password.Any(c => !char.IsAsciiLetterOrDigit(c)) ? 1 : 0);
        if (kinds < 3)
        {
            throw new WharfException(WharfErrorCode.PasswordPolicyViolation, "Password should have at least three of the following: uppercase letters, lowercase letters, numbers and symbols");
        }
    }

    // The named user, or (no name) the caller itself; authorised, and it must exist.
    private async Task<(string Arn, string Shown)> LoginUserAsync(Caller caller, string action, string? name, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            CheckName(name);
        }

        var arn = name is null ? caller.PrincipalArn : UserArn(caller, name);
        var shown = name ?? (caller.IsRoot ? "root" : arn.Split('/')[^1]);
        await authorizer.AuthorizeAsync(caller, action, arn, cancellationToken);
        if (caller.IsRoleSession && name is null)
        {
            throw NoSuchUser(shown);
        }

        return await store.Identities.GetPrincipalAsync(arn, cancellationToken) is null ? throw NoSuchUser(shown) : (arn, shown);
    }

    // A new password signs everyone out, as the store's contract has it: whoever knew the old one is out too.
    private Task<int> EndSessionsAsync(string arn, CancellationToken cancellationToken) =>
        store.Logins.DeleteSessionsAsync(arn, cancellationToken);

    private static WharfException NoLoginProfile(string name) => new(WharfErrorCode.NoSuchEntity, $"Login Profile for User {name} cannot be found.");
}
