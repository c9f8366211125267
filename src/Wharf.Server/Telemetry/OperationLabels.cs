using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Wharf.Server.Hosting;

namespace Wharf.Server.Telemetry;

/// <summary>
/// Bounded label values for request metrics. <see cref="RequestRecord.Operation"/> is a name from a fixed set on every
/// surface but IAM and STS, where it is the caller's <c>Action</c> before it is checked: there only the actions Wharf
/// serves are kept, and everywhere a cap on distinct values backs that up. Anything else is <c>other</c>.
/// </summary>
internal static class OperationLabels
{
    public const string Other = "other";

    /// <summary>At most this many distinct operation labels, whatever a later change lets through.</summary>
    private const int Cap = 1024;

    private static readonly FrozenSet<string> QueryActions = new[]
    {
        "CreateGroup", "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup", "PutGroupPolicy", "DeleteGroupPolicy",
        "AttachGroupPolicy", "DetachGroupPolicy", "CreateRole", "GetRole", "DeleteRole", "PutRolePolicy", "DeleteRolePolicy",
        "AttachRolePolicy", "DetachRolePolicy", "AssumeRole", "CreateUser", "GetUser", "ListUsers", "DeleteUser", "CreateLoginProfile",
        "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile", "ChangePassword", "CreateAccessKey", "ListAccessKeys",
        "DeleteAccessKey", "UpdateAccessKey", "PutUserPolicy", "DeleteUserPolicy", "AttachUserPolicy", "DetachUserPolicy",
        "ListAttachedUserPolicies", "ListUserPolicies", "GetUserPolicy", "ListGroups", "ListGroupsForUser", "ListRoles",
        "UpdateAssumeRolePolicy", "CreatePolicy", "GetPolicy", "ListPolicies", "GetPolicyVersion", "ListPolicyVersions",
        "CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion", "DeletePolicy", "TagUser", "UntagUser",
        "ListUserTags", "GetCallerIdentity",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, string> Seen = new(StringComparer.Ordinal);

    private static readonly string[] StatusCodes = [.. Enumerable.Range(0, 600).Select(code => code.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The operation label of a request on <paramref name="surface"/>.</summary>
    public static string Operation(string surface, string? operation)
    {
        if (operation is null)
        {
            return Other;
        }

        if (Seen.TryGetValue(operation, out var known))
        {
            return known;
        }

        if (surface is "iam" or "sts" && !QueryActions.Contains(operation))
        {
            return Other;
        }

        if (Seen.Count >= Cap)
        {
            return Other;
        }

        return Seen.GetOrAdd(operation, operation);
    }

    public static string Method(string method) => method switch
    {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => Other,
    };

    public static string Status(int code) => code is >= 0 and < 600 ? StatusCodes[code] : Other;
}
