using Wharf.Core.Errors;

namespace Wharf.Core.Security;

/// <summary>
/// IAM mode before the policy engine: an account's root may do anything in its own account and nothing
/// else is allowed — the safe subset of AWS's decision (a root is implicitly allowed; everyone else needs
/// a policy, and there are none yet). Denials use AWS's wording.
/// </summary>
public sealed class RootOnlyAuthorizer : IAccessAuthorizer
{
    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken)
    {
        var isRoot = caller.PrincipalArn == $"arn:aws:iam::{caller.Account}:root";
        var resourceAccount = resourceArn == "*" ? caller.Account.Value : resourceArn.Split(':') is { Length: >= 5 } parts ? parts[4] : string.Empty;
        if (!caller.IsAnonymous && isRoot && resourceAccount == caller.Account.Value)
        {
            return ValueTask.CompletedTask;
        }

        var reason = resourceAccount == caller.Account.Value
            ? $"because no identity-based policy allows the {action} action"
            : $"because no resource-based policy allows the {action} action";
        throw new WharfException(WharfErrorCode.Denied, $"User: {caller.PrincipalArn} is not authorized to perform: {action} on resource: {resourceArn} {reason}");
    }
}
