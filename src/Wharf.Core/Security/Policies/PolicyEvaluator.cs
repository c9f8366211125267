using System.Text.RegularExpressions;

namespace Wharf.Core.Security.Policies;

/// <summary>Who asks, for what, on what, and the request's condition keys.</summary>
/// <param name="PrincipalArn">The caller's ARN.</param>
/// <param name="PrincipalAccount">The caller's account.</param>
/// <param name="Action">The IAM action, e.g. <c>ecr:BatchGetImage</c>.</param>
/// <param name="Resource">The resource ARN, or <c>*</c>.</param>
/// <param name="ResourceAccount">The account that owns the resource.</param>
/// <param name="Keys">Condition keys (case-insensitive names) to their values.</param>
public sealed record RequestContext(
    string PrincipalArn,
    string PrincipalAccount,
    string Action,
    string Resource,
    string ResourceAccount,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Keys)
{
    public bool IsRoot => PrincipalArn == $"arn:aws:iam::{PrincipalAccount}:root";
}

public enum DecisionKind
{
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// <summary>The decision, the statement that decided it (if one did) and AWS's reason phrase.</summary>
public sealed record Decision(DecisionKind Kind, PolicyStatement? Statement, string Reason)
{
    public bool Allowed => Kind == DecisionKind.Allow;
}

/// <summary>
/// AWS's policy evaluation logic, pure: an explicit deny in any policy wins; within one account the
/// identity policies OR the resource policy may allow (a resource policy alone only when it names the
/// principal itself, not just its account); across accounts both must allow. An account's root counts
/// as allowed by its identity, as in AWS.
/// </summary>
public static partial class PolicyEvaluator
{
    public static Decision Evaluate(RequestContext request, IReadOnlyList<PolicyDocument> identityPolicies, PolicyDocument? resourcePolicy) =>
        EvaluateAll(request, identityPolicies, resourcePolicy is null ? [] : [resourcePolicy]);

    /// <summary>As above, with several resource-based policies (a repository's and its registry's), which count as one.</summary>
    /// <remarks>
    /// <paramref name="resourcePolicyRequired"/> is for a role's trust policy: <c>sts:AssumeRole</c> is
    /// allowed only when the trust policy allows it, within the account too.
    /// </remarks>
    public static Decision EvaluateAll(RequestContext request, IReadOnlyList<PolicyDocument> identityPolicies, IReadOnlyList<PolicyDocument> resourcePolicies, bool resourcePolicyRequired = false)
    {
        var identityMatches = identityPolicies.SelectMany(p => p.Statements.Where(s => Applies(s, request, checkPrincipal: false, HasVariables(p)))).ToList();
        var resourceMatches = resourcePolicies.SelectMany(p => p.Statements.Where(s => Applies(s, request, checkPrincipal: true, HasVariables(p)))).ToList();

        if (identityMatches.Concat(resourceMatches).FirstOrDefault(s => s.Effect == PolicyEffect.Deny) is { } deny)
        {
            var where = identityMatches.Contains(deny) ? "an identity-based" : "a resource-based";
            return new Decision(DecisionKind.ExplicitDeny, deny, $"with an explicit deny in {where} policy");
        }

        var identityAllow = identityMatches.FirstOrDefault(s => s.Effect == PolicyEffect.Allow);
        // An account's root needs no identity policy: within its account it may do anything, and across
        // accounts it may do what a resource policy grants its account.
        var identityAllows = identityAllow is not null || request.IsRoot;
        var resourceAllow = resourceMatches.FirstOrDefault(s => s.Effect == PolicyEffect.Allow);
        var sameAccount = request.PrincipalAccount == request.ResourceAccount;
        if (resourcePolicyRequired && resourceAllow is null)
        {
            return new Decision(DecisionKind.ImplicitDeny, null, $"because no resource-based policy allows the {request.Action} action");
        }

        if (sameAccount)
        {
            if (identityAllows)
            {
                return new Decision(DecisionKind.Allow, identityAllow, string.Empty);
            }

            // A resource policy naming only the account delegates to the account's identity policies.
            var direct = resourceMatches.FirstOrDefault(s => s.Effect == PolicyEffect.Allow && NamesPrincipalDirectly(s, request));
            return direct is not null
                ? new Decision(DecisionKind.Allow, direct, string.Empty)
                : new Decision(DecisionKind.ImplicitDeny, null, $"because no identity-based policy allows the {request.Action} action");
        }

        if (identityAllows && resourceAllow is not null)
        {
            return new Decision(DecisionKind.Allow, resourceAllow, string.Empty);
        }

        return new Decision(
            DecisionKind.ImplicitDeny,
            null,
            resourceAllow is null ? $"because no resource-based policy allows the {request.Action} action" : $"because no identity-based policy allows the {request.Action} action");
    }

    /// <summary>AWS's denial text: <c>User: … is not authorized to perform: … on resource: … &lt;reason&gt;</c>.</summary>
    public static string DenialMessage(RequestContext request, Decision decision) =>
        $"User: {request.PrincipalArn} is not authorized to perform: {request.Action} on resource: {request.Resource} {decision.Reason}";

    // Policy variables exist from Version 2012-10-17 on; in a 2008-10-17 policy (or one without a
    // Version, which means 2008-10-17) IAM reads ${aws:username} as literal text.
    private static bool HasVariables(PolicyDocument policy) => policy.Version == "2012-10-17";

    private static bool Applies(PolicyStatement statement, RequestContext request, bool checkPrincipal, bool variables)
    {
        string Substitute(string text) => !variables ? text : Variables().Replace(text, m =>
        {
            var key = m.Groups[1].Value;
            return request.Keys.TryGetValue(key, out var values) && values.Count > 0 ? values[0] : m.Value;
        });

        var actionMatch = statement.Actions.Any(a => Wildcard.Matches(a, request.Action, ignoreCase: true));
        if (actionMatch == statement.NotAction)
        {
            return false;
        }

        var resourceMatch = statement.Resources.Any(r => r == "*" || PolicyConditions.ArnMatches(Substitute(r), request.Resource));
        if (resourceMatch == statement.NotResource)
        {
            return false;
        }

        if (checkPrincipal && statement.Principals is { } principals && principals.Any(p => PrincipalMatches(p, request)) == statement.NotPrincipal)
        {
            return false;
        }

        return statement.Conditions.All(c =>
            PolicyConditions.Holds(c, request.Keys.TryGetValue(c.Key, out var values) ? values : null, Substitute));
    }

    private static bool PrincipalMatches(PolicyPrincipal principal, RequestContext request) => principal.Kind switch
    {
        "*" => true,
        "account" => principal.Value == request.PrincipalAccount,
        "arn" => ArnNamesPrincipal(principal.Value, request),
        _ => false,
    };

    private static bool NamesPrincipalDirectly(PolicyStatement statement, RequestContext request) =>
        statement.Principals is { } principals && !statement.NotPrincipal
        && principals.Any(p => p.Kind == "*" || (p.Kind == "arn" && ArnNamesPrincipal(p.Value, request)));

    // A role's ARN names every session of the role; the session's own ARN names just that session.
    private static bool ArnNamesPrincipal(string arn, RequestContext request) =>
        PolicyConditions.ArnMatches(arn, request.PrincipalArn)
        || (Identity.RoleSession.IdentityArnOf(request.PrincipalArn) is var role && role != request.PrincipalArn && PolicyConditions.ArnMatches(arn, role));

    [GeneratedRegex(@"\$\{([A-Za-z0-9:/_\-]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Variables();
}
