using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Server.ControlPlane;
using Wharf.Server.Errors;

namespace Wharf.Server.Identity;

/// <summary>
/// <c>POST /</c> with a form body <c>Action=…&amp;Version=…</c> (or <c>GET /?Action=…</c>, as presigned
/// STS URLs are): the AWS Query protocol of IAM and STS,
/// XML responses in AWS's shapes (<c>&lt;XResponse&gt;&lt;XResult&gt;…</c>) and errors
/// (<c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type/&gt;&lt;Code/&gt;&lt;Message/&gt;</c>). The service is the SigV4 scope's
/// (<c>iam</c> or <c>sts</c>); the same identity resolver as the JSON API verifies the signature.
/// </summary>
internal sealed class QueryApiHandler(IApiIdentityResolver identities, IdentityService iam, Hosting.RequestLimits limits, Audit.AuditSwitch audit, ILogger<QueryApiHandler> logger)
{
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly XNamespace IamNs = "https://iam.amazonaws.com/doc/2010-05-08/";
    private static readonly XNamespace StsNs = "https://sts.amazonaws.com/doc/2011-06-15/";

    public static bool IsQueryRequest(HttpRequest request) =>
        !request.Headers.ContainsKey("X-Amz-Target")
        && request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true;

    public async Task HandleAsync(HttpContext context)
    {
        var record = Hosting.RequestRecord.Of(context);
        var requestId = record?.RequestId ?? Guid.NewGuid().ToString();
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        var ns = IamNs;
        try
        {
            var body = HttpMethods.IsGet(context.Request.Method) ? ReadOnlyMemory<byte>.Empty : await ReadBodyAsync(context);
            var text = HttpMethods.IsGet(context.Request.Method) ? context.Request.QueryString.Value?.TrimStart('?') ?? string.Empty : Encoding.UTF8.GetString(body.Span);
            var form = Core.Identity.SigV4.ParseQuery(text)
                .GroupBy(p => p.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
            var action = form.GetValueOrDefault("Action") ?? string.Empty;
            var sts = action is "GetCallerIdentity" or "AssumeRole";
            ns = sts ? StsNs : IamNs;
            if (record is not null)
            {
                record.Surface = sts ? "sts" : "iam";
                record.EventSource = sts ? "sts.amazonaws.com" : "iam.amazonaws.com";
                record.Operation = action.Length > 0 ? action : null;
                if (audit.Enabled)
                {
                    record.RequestParameters = Audit.AuditParameters.FromForm(form);
                }
            }

            var identity = await identities.ResolveAsync(context, body, context.RequestAborted);
            identity.RequireService(sts ? "sts" : "iam");
            if (record is not null)
            {
                record.Caller = identity.Caller;
                record.Region = identity.Region;
            }

            limits.Throttle(context, identity.Caller, Hosting.RequestLimits.ForQuery(action));
            var result = await InvokeAsync(action, form, identity, context.RequestAborted);
            await QueryErrorWriter.WriteDocumentAsync(context, new XElement(ns + $"{action}Response", result is null ? null : new XElement(ns + $"{action}Result", Content(result, ns)), Metadata(ns, requestId)), 200);
        }
        catch (Exception e)
        {
            await QueryErrorWriter.HandleAsync(context, e, ns, requestId, logger);
        }
    }

    private async Task<XElement[]?> InvokeAsync(string action, Dictionary<string, string> form, ApiIdentity identity, CancellationToken ct)
    {
        var caller = identity.Caller;
        string Required(string name) => form.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value null at '{char.ToLowerInvariant(name[0])}{name[1..]}' failed to satisfy constraint: Member must not be null");
        int? Number(string name) => form.TryGetValue(name, out var value)
            ? int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{value}' at '{char.ToLowerInvariant(name[0])}{name[1..]}' failed to satisfy constraint: Member must be a number")
            : null;
        bool Flag(string name) => form.TryGetValue(name, out var value) && (value switch
        {
            "true" => true,
            "false" => false,
            _ => throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{value}' at '{char.ToLowerInvariant(name[0])}{name[1..]}' failed to satisfy constraint: Member must be a boolean"),
        });
        var user = form.GetValueOrDefault("UserName");
        switch (action)
        {
            case "CreateGroup":
                return [new XElement("Group", GroupFields(await iam.CreateGroupAsync(caller, Required("GroupName"), ct)))];
            case "GetGroup":
                var (group, members) = await iam.GetGroupAsync(caller, Required("GroupName"), ct);
                return [new XElement("Group", GroupFields(group)), new XElement("Users", members.Select(u => new XElement("member", UserFields(u)))), new XElement("IsTruncated", "false")];
            case "DeleteGroup":
                await iam.DeleteGroupAsync(caller, Required("GroupName"), ct);
                return null;
            case "AddUserToGroup":
                await iam.AddUserToGroupAsync(caller, Required("GroupName"), Required("UserName"), ct);
                return null;
            case "RemoveUserFromGroup":
                await iam.RemoveUserFromGroupAsync(caller, Required("GroupName"), Required("UserName"), ct);
                return null;
            case "PutGroupPolicy":
                await iam.PutGroupPolicyAsync(caller, Required("GroupName"), Required("PolicyName"), Required("PolicyDocument"), ct);
                return null;
            case "DeleteGroupPolicy":
                await iam.DeleteGroupPolicyAsync(caller, Required("GroupName"), Required("PolicyName"), ct);
                return null;
            case "AttachGroupPolicy":
                await iam.AttachGroupPolicyAsync(caller, Required("GroupName"), Required("PolicyArn"), ct);
                return null;
            case "DetachGroupPolicy":
                await iam.DetachGroupPolicyAsync(caller, Required("GroupName"), Required("PolicyArn"), ct);
                return null;
            case "CreateRole":
                return [new XElement("Role", RoleFields(await iam.CreateRoleAsync(caller, Required("RoleName"), Required("AssumeRolePolicyDocument"), Number("MaxSessionDuration"), ct)))];
            case "GetRole":
                return [new XElement("Role", RoleFields(await iam.GetRoleAsync(caller, Required("RoleName"), ct)))];
            case "DeleteRole":
                await iam.DeleteRoleAsync(caller, Required("RoleName"), ct);
                return null;
            case "PutRolePolicy":
                await iam.PutRolePolicyAsync(caller, Required("RoleName"), Required("PolicyName"), Required("PolicyDocument"), ct);
                return null;
            case "DeleteRolePolicy":
                await iam.DeleteRolePolicyAsync(caller, Required("RoleName"), Required("PolicyName"), ct);
                return null;
            case "AttachRolePolicy":
                await iam.AttachRolePolicyAsync(caller, Required("RoleName"), Required("PolicyArn"), ct);
                return null;
            case "DetachRolePolicy":
                await iam.DetachRolePolicyAsync(caller, Required("RoleName"), Required("PolicyArn"), ct);
                return null;
            case "AssumeRole":
                if (form.ContainsKey("Policy") || form.Keys.Any(k => k.StartsWith("PolicyArns.", StringComparison.Ordinal) || k.StartsWith("Tags.", StringComparison.Ordinal)))
                {
                    throw new WharfException(WharfErrorCode.IamValidation, "Wharf does not support session policies or session tags in AssumeRole.");
                }

                var assumed = await iam.AssumeRoleAsync(caller, Required("RoleArn"), Required("RoleSessionName"), Number("DurationSeconds"), ct);
                return
                [
                    new XElement(
                        "Credentials",
                        new XElement("AccessKeyId", assumed.AccessKeyId),
                        new XElement("SecretAccessKey", assumed.Secret),
                        new XElement("SessionToken", assumed.SessionToken),
                        new XElement("Expiration", Time(assumed.Session.ExpiresAt))),
                    new XElement("AssumedRoleUser", new XElement("AssumedRoleId", assumed.Session.UserId), new XElement("Arn", assumed.Session.Arn)),
                ];
            case "CreateUser":
                return [new XElement("User", UserFields(await iam.CreateUserAsync(caller, Required("UserName"), ct)))];
            case "GetUser":
                return [new XElement("User", UserFields(await iam.GetUserAsync(caller, user, ct)))];
            case "ListUsers":
                return [new XElement("IsTruncated", "false"), new XElement("Users", (await iam.ListUsersAsync(caller, ct)).Select(u => new XElement("member", UserFields(u))))];
            case "DeleteUser":
                await iam.DeleteUserAsync(caller, Required("UserName"), ct);
                return null;
            case "CreateLoginProfile":
                return [new XElement("LoginProfile", LoginProfileFields(await iam.CreateLoginProfileAsync(caller, user, Required("Password"), Flag("PasswordResetRequired"), ct)))];
            case "GetLoginProfile":
                return [new XElement("LoginProfile", LoginProfileFields(await iam.GetLoginProfileAsync(caller, user, ct)))];
            case "UpdateLoginProfile":
                await iam.UpdateLoginProfileAsync(caller, user, form.GetValueOrDefault("Password"), form.ContainsKey("PasswordResetRequired") ? Flag("PasswordResetRequired") : null, ct);
                return null;
            case "DeleteLoginProfile":
                await iam.DeleteLoginProfileAsync(caller, user, ct);
                return null;
            case "ChangePassword":
                await iam.ChangePasswordAsync(caller, Required("OldPassword"), Required("NewPassword"), ct);
                return null;
            case "CreateAccessKey":
                var created = await iam.CreateAccessKeyAsync(caller, user, ct);
                return [new XElement("AccessKey", KeyFields(created.Record), new XElement("SecretAccessKey", created.Secret))];
            case "ListAccessKeys":
                return [new XElement("IsTruncated", "false"), new XElement("AccessKeyMetadata", (await iam.ListAccessKeysAsync(caller, user, ct)).Select(k => new XElement("member", KeyFields(k))))];
            case "DeleteAccessKey":
                await iam.DeleteAccessKeyAsync(caller, user, Required("AccessKeyId"), ct);
                return null;
            case "UpdateAccessKey":
                var status = Required("Status");
                if (status is not ("Active" or "Inactive"))
                {
                    throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
                }

                await iam.UpdateAccessKeyAsync(caller, user, Required("AccessKeyId"), status == "Active", ct);
                return null;
            case "PutUserPolicy":
                await iam.PutUserPolicyAsync(caller, Required("UserName"), Required("PolicyName"), Required("PolicyDocument"), ct);
                return null;
            case "DeleteUserPolicy":
                await iam.DeleteUserPolicyAsync(caller, Required("UserName"), Required("PolicyName"), ct);
                return null;
            case "AttachUserPolicy":
                await iam.AttachUserPolicyAsync(caller, Required("UserName"), Required("PolicyArn"), ct);
                return null;
            case "DetachUserPolicy":
                await iam.DetachUserPolicyAsync(caller, Required("UserName"), Required("PolicyArn"), ct);
                return null;
            case "ListAttachedUserPolicies" or "ListAttachedGroupPolicies" or "ListAttachedRolePolicies":
                var attachedOwner = OwnerOf(action);
                var attached = await iam.ListAttachedPoliciesAsync(caller, attachedOwner, Required(OwnerParameter(attachedOwner)), ct);
                return Paged(form, attached, a => a, "AttachedPolicies", a => new XElement("member", new XElement("PolicyName", a[(a.LastIndexOf('/') + 1)..]), new XElement("PolicyArn", a)));
            case "ListUserPolicies" or "ListGroupPolicies" or "ListRolePolicies":
                var inlineOwner = OwnerOf(action);
                var names = await iam.ListInlinePoliciesAsync(caller, inlineOwner, Required(OwnerParameter(inlineOwner)), ct);
                return Paged(form, names, n => n, "PolicyNames", n => new XElement("member", n));
            case "GetUserPolicy" or "GetGroupPolicy" or "GetRolePolicy":
                var getOwner = OwnerOf(action);
                var ownerName = Required(OwnerParameter(getOwner));
                var policyName = Required("PolicyName");
                var document = await iam.GetInlinePolicyAsync(caller, getOwner, ownerName, policyName, ct);
                return [new XElement(OwnerParameter(getOwner), ownerName), new XElement("PolicyName", policyName), new XElement("PolicyDocument", Uri.EscapeDataString(document))];
            case "ListGroups":
                return Paged(form, await iam.ListGroupsAsync(caller, ct), g => g.Name, "Groups", g => new XElement("member", GroupFields(g)));
            case "ListGroupsForUser":
                return Paged(form, await iam.ListGroupsForUserAsync(caller, Required("UserName"), ct), g => g.Name, "Groups", g => new XElement("member", GroupFields(g)));
            case "ListRoles":
                return Paged(form, await iam.ListRolesAsync(caller, ct), r => r.Principal.Name, "Roles", r => new XElement("member", RoleFields(r)));
            case "UpdateAssumeRolePolicy":
                await iam.UpdateAssumeRolePolicyAsync(caller, Required("RoleName"), Required("PolicyDocument"), ct);
                return null;
            case "CreatePolicy":
                if (form.Keys.Any(k => k.StartsWith("Tags.", StringComparison.Ordinal)) || form.GetValueOrDefault("Path") is { } path && path != "/")
                {
                    throw new WharfException(WharfErrorCode.IamValidation, "Wharf does not support paths or tags on managed policies.");
                }

                return [new XElement("Policy", PolicyFields(await iam.CreatePolicyAsync(caller, Required("PolicyName"), Required("PolicyDocument"), form.GetValueOrDefault("Description"), ct)))];
            case "GetPolicy":
                return [new XElement("Policy", PolicyFields(await iam.GetPolicyAsync(caller, Required("PolicyArn"), ct)))];
            case "ListPolicies":
                var scope = form.GetValueOrDefault("Scope") ?? "All";
                if (scope is not ("All" or "AWS" or "Local"))
                {
                    throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]");
                }

                var policies = await iam.ListPoliciesAsync(caller, scope, Flag("OnlyAttached"), ct);
                return Paged(form, policies, p => p.Name, "Policies", p => new XElement("member", PolicyFields(p)));
            case "GetPolicyVersion":
                return [new XElement("PolicyVersion", VersionFields(await iam.GetPolicyVersionAsync(caller, Required("PolicyArn"), Required("VersionId"), ct)))];
            case "ListPolicyVersions":
                var versions = await iam.ListPolicyVersionsAsync(caller, Required("PolicyArn"), ct);
                return Paged(form, versions, v => v.VersionId, "Versions", v => new XElement("member", VersionFields(v, withDocument: false)));
            case "CreatePolicyVersion":
                return [new XElement("PolicyVersion", VersionFields(await iam.CreatePolicyVersionAsync(caller, Required("PolicyArn"), Required("PolicyDocument"), Flag("SetAsDefault"), ct), withDocument: false))];
            case "SetDefaultPolicyVersion":
                await iam.SetDefaultPolicyVersionAsync(caller, Required("PolicyArn"), Required("VersionId"), ct);
                return null;
            case "DeletePolicyVersion":
                await iam.DeletePolicyVersionAsync(caller, Required("PolicyArn"), Required("VersionId"), ct);
                return null;
            case "DeletePolicy":
                await iam.DeletePolicyAsync(caller, Required("PolicyArn"), ct);
                return null;
            case "TagUser" or "TagRole":
                var tagOwner = OwnerOf(action);
                await iam.TagAsync(caller, tagOwner, Required(OwnerParameter(tagOwner)), Tags(form), ct);
                return null;
            case "UntagUser" or "UntagRole":
                var untagOwner = OwnerOf(action);
                var keys = Members(form, "TagKeys");
                await iam.UntagAsync(caller, untagOwner, Required(OwnerParameter(untagOwner)), keys.Count > 0 ? keys : throw Missing("TagKeys"), ct);
                return null;
            case "ListUserTags" or "ListRoleTags":
                var listOwner = OwnerOf(action);
                var tags = await iam.ListTagsAsync(caller, listOwner, Required(OwnerParameter(listOwner)), ct);
                return Paged(form, tags, t => t.Key, "Tags", t => new XElement("member", new XElement("Key", t.Key), new XElement("Value", t.Value)));
            case "GetCallerIdentity":
                var me = await iam.WhoAmIAsync(caller, ct);
                return [new XElement("Arn", me.Arn), new XElement("UserId", me.UserId), new XElement("Account", me.Account)];
            default:
                throw new WharfException(WharfErrorCode.IamValidation, $"Wharf does not implement the action '{action}' of the IAM and STS Query APIs.");
        }
    }

    // "ListAttachedUserPolicies" → User, "GetRolePolicy" → Role, "TagUser" → User …
    private static PolicyOwner OwnerOf(string action) =>
        action.Contains("User", StringComparison.Ordinal) ? PolicyOwner.User : action.Contains("Group", StringComparison.Ordinal) ? PolicyOwner.Group : PolicyOwner.Role;

    private static string OwnerParameter(PolicyOwner owner) => $"{owner}Name";

    private static WharfException Missing(string name) =>
        new(WharfErrorCode.IamValidation, $"1 validation error detected: Value null at '{char.ToLowerInvariant(name[0])}{name[1..]}' failed to satisfy constraint: Member must not be null");

    // A Query-protocol list: Name.member.1, Name.member.2, … in order.
    private static List<string> Members(Dictionary<string, string> form, string name)
    {
        var values = new List<string>();
        for (var i = 1; form.TryGetValue($"{name}.member.{i}", out var value); i++)
        {
            values.Add(value);
        }

        return values;
    }

    private static List<ResourceTag> Tags(Dictionary<string, string> form)
    {
        var tags = new List<ResourceTag>();
        for (var i = 1; form.TryGetValue($"Tags.member.{i}.Key", out var key); i++)
        {
            if (key.Length is 0 or > 128)
            {
                throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{key}' at 'tags.{i}.member.key' failed to satisfy constraint: Member must have length between 1 and 128");
            }

            var value = form.GetValueOrDefault($"Tags.member.{i}.Value") ?? throw Missing($"tags.{i}.member.value");
            if (value.Length > 256)
            {
                throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value at 'tags.{i}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256");
            }

            tags.Add(new ResourceTag(key, value));
        }

        return tags.Count is > 0 and <= IdentityService.MaxPrincipalTags
            ? tags
            : tags.Count == 0 ? throw Missing("Tags") : throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {IdentityService.MaxPrincipalTags}");
    }

    /// <summary>
    /// IAM's paging: at most <c>MaxItems</c> (1–1,000, default 100) from <c>Marker</c> on, with
    /// <c>IsTruncated</c> and the <c>Marker</c> of the next page. The marker is the sort key of the
    /// first item not returned (IAM's markers are opaque to clients).
    /// </summary>
    private static XElement[] Paged<T>(Dictionary<string, string> form, IReadOnlyList<T> items, Func<T, string> key, string listName, Func<T, XElement> member)
    {
        var max = 100;
        if (form.TryGetValue("MaxItems", out var text))
        {
            max = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1000
                ? n
                : throw new WharfException(WharfErrorCode.IamValidation, $"1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000");
        }

        var start = 0;
        if (form.TryGetValue("Marker", out var marker))
        {
            start = Enumerable.Range(0, items.Count).FirstOrDefault(i => string.Equals(key(items[i]), marker, StringComparison.Ordinal), -1);
            if (start < 0)
            {
                throw new WharfException(WharfErrorCode.IamInvalidInput, "Invalid Marker.");
            }
        }

        var page = items.Skip(start).Take(max).ToList();
        var truncated = start + page.Count < items.Count;
        return truncated
            ? [new XElement(listName, page.Select(member)), new XElement("IsTruncated", "true"), new XElement("Marker", key(items[start + page.Count]))]
            : [new XElement(listName, page.Select(member)), new XElement("IsTruncated", "false")];
    }

    private static IEnumerable<XElement> PolicyFields(ManagedPolicyRecord policy) =>
    [
        new XElement("PolicyName", policy.Name),
        new XElement("PolicyId", policy.UniqueId),
        new XElement("Arn", policy.Arn),
        new XElement("Path", "/"),
        new XElement("DefaultVersionId", policy.DefaultVersionId),
        new XElement("AttachmentCount", policy.AttachmentCount.ToString(CultureInfo.InvariantCulture)),
        new XElement("PermissionsBoundaryUsageCount", "0"),
        new XElement("IsAttachable", "true"),
        .. policy.Description is { } description ? [new XElement("Description", description)] : Array.Empty<XElement>(),
        new XElement("CreateDate", Time(policy.CreatedAt)),
        new XElement("UpdateDate", Time(policy.UpdatedAt)),
    ];

    // IAM returns policy documents URL-encoded; the SDKs decode them.
    private static IEnumerable<XElement> VersionFields(PolicyVersionRecord version, bool withDocument = true) =>
    [
        .. withDocument ? [new XElement("Document", Uri.EscapeDataString(version.Document))] : Array.Empty<XElement>(),
        new XElement("VersionId", version.VersionId),
        new XElement("IsDefaultVersion", version.IsDefault ? "true" : "false"),
        new XElement("CreateDate", Time(version.CreatedAt)),
    ];

    private static IEnumerable<XElement> UserFields(PrincipalRecord user) =>
    [
        new XElement("Path", "/"),
        new XElement("UserName", user.Name),
        new XElement("UserId", user.UniqueId),
        new XElement("Arn", user.Arn),
        new XElement("CreateDate", Time(user.CreatedAt)),
    ];

    private static IEnumerable<XElement> LoginProfileFields(LoginProfileRecord profile) =>
    [
        new XElement("UserName", profile.PrincipalArn.EndsWith(":root", StringComparison.Ordinal) ? "root" : profile.PrincipalArn.Split('/')[^1]),
        new XElement("CreateDate", Time(profile.CreatedAt)),
        new XElement("PasswordResetRequired", profile.PasswordResetRequired ? "true" : "false"),
    ];

    private static IEnumerable<XElement> GroupFields(GroupRecord group) =>
    [
        new XElement("Path", "/"),
        new XElement("GroupName", group.Name),
        new XElement("GroupId", group.UniqueId),
        new XElement("Arn", group.Arn),
        new XElement("CreateDate", Time(group.CreatedAt)),
    ];

    // IAM returns policy documents URL-encoded; the SDKs decode them.
    private static IEnumerable<XElement> RoleFields(RoleRecord role) =>
    [
        new XElement("Path", "/"),
        new XElement("RoleName", role.Principal.Name),
        new XElement("RoleId", role.Principal.UniqueId),
        new XElement("Arn", role.Principal.Arn),
        new XElement("CreateDate", Time(role.Principal.CreatedAt)),
        new XElement("AssumeRolePolicyDocument", Uri.EscapeDataString(role.TrustPolicy)),
        new XElement("MaxSessionDuration", role.MaxSessionSeconds.ToString(CultureInfo.InvariantCulture)),
    ];

    private static IEnumerable<XElement> KeyFields(AccessKeyRecord key) =>
    [
        new XElement("UserName", key.PrincipalArn.Split('/')[^1]),
        new XElement("AccessKeyId", key.Id),
        new XElement("Status", key.Active ? "Active" : "Inactive"),
        new XElement("CreateDate", Time(key.CreatedAt)),
    ];

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // Elements are built without a namespace and take the response's on output.
    private static IEnumerable<XElement> Content(XElement[] elements, XNamespace ns)
    {
        foreach (var element in elements)
        {
            foreach (var e in element.DescendantsAndSelf())
            {
                e.Name = ns + e.Name.LocalName;
            }

            yield return element;
        }
    }

    private static XElement Metadata(XNamespace ns, string requestId) => new(ns + "ResponseMetadata", new XElement(ns + "RequestId", requestId));

    // Read before the caller is known, so never more than the cap (the IAM and STS inputs are small).
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context) =>
        await RequestBodies.ReadAsync(context, MaxBodyBytes, context.RequestAborted)
            ?? throw new WharfException(WharfErrorCode.IamValidation, $"The request body is larger than {MaxBodyBytes} bytes.");
}
