using Wharf.Core.Identity;
using Wharf.Core.Security.Policies;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// The policies of a user, group or role, as one part of its page: inline policies (each shown as text,
/// edited in a JSON editor, deleted) and attached managed policies (attach one of the AWS managed policies
/// Wharf knows or a customer managed policy of the account, detach). Every read and change is IAM's
/// operation for that kind of owner, as the signed-in principal.
/// </summary>
internal static class PolicyPanel
{
    public const string PutAction = "put-policy";
    public const string DeleteAction = "delete-policy";
    public const string AttachAction = "attach-policy";
    public const string DetachAction = "detach-policy";

    // Inline policies shown with their documents; IAM's size quotas keep real owners well under this.
    private const int MaxInlineShown = 50;

    // Customer managed policies offered in the attach list (any other can be given by ARN).
    private const int MaxOffered = 200;

    /// <summary>Runs a policy action on the owner; the notice to show after it, or null when <paramref name="action"/> is not one of these.</summary>
    public static async Task<string?> HandleAsync(HttpContext context, ConsoleUser user, PolicyOwner kind, string owner, string action)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var ct = context.RequestAborted;
        var caller = user.Caller;
        switch (action)
        {
            case PutAction:
                {
                    var policyName = ConsoleForms.Field(context, "policy-name")?.Trim() ?? string.Empty;
                    var document = ConsoleForms.Field(context, "policy-document") ?? string.Empty;
                    await (kind switch
                    {
                        PolicyOwner.User => iam.PutUserPolicyAsync(caller, owner, policyName, document, ct),
                        PolicyOwner.Group => iam.PutGroupPolicyAsync(caller, owner, policyName, document, ct),
                        _ => iam.PutRolePolicyAsync(caller, owner, policyName, document, ct),
                    });
                    return $"Saved the inline policy {policyName}.";
                }

            case DeleteAction:
                {
                    var policyName = ConsoleForms.Field(context, "policy-name") ?? string.Empty;
                    await (kind switch
                    {
                        PolicyOwner.User => iam.DeleteUserPolicyAsync(caller, owner, policyName, ct),
                        PolicyOwner.Group => iam.DeleteGroupPolicyAsync(caller, owner, policyName, ct),
                        _ => iam.DeleteRolePolicyAsync(caller, owner, policyName, ct),
                    });
                    return $"Deleted the inline policy {policyName}.";
                }

            case AttachAction:
                {
                    var typed = ConsoleForms.Field(context, "policy-arn-other")?.Trim();
                    var arn = string.IsNullOrEmpty(typed) ? ConsoleForms.Field(context, "policy-arn") ?? string.Empty : typed;
                    await (kind switch
                    {
                        PolicyOwner.User => iam.AttachUserPolicyAsync(caller, owner, arn, ct),
                        PolicyOwner.Group => iam.AttachGroupPolicyAsync(caller, owner, arn, ct),
                        _ => iam.AttachRolePolicyAsync(caller, owner, arn, ct),
                    });
                    return $"Attached {NameOf(arn)}.";
                }

            case DetachAction:
                {
                    var arn = ConsoleForms.Field(context, "policy-arn") ?? string.Empty;
                    await (kind switch
                    {
                        PolicyOwner.User => iam.DetachUserPolicyAsync(caller, owner, arn, ct),
                        PolicyOwner.Group => iam.DetachGroupPolicyAsync(caller, owner, arn, ct),
                        _ => iam.DetachRolePolicyAsync(caller, owner, arn, ct),
                    });
                    return $"Detached {NameOf(arn)}.";
                }

            default:
                return null;
        }
    }

    /// <summary>The "Permissions" part of the owner's page, posting to <paramref name="pageUrl"/>.</summary>
    public static async Task<Html> RenderAsync(HttpContext context, ConsoleUser user, PolicyOwner kind, string owner, string pageUrl, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var ct = context.RequestAborted;
        var html = new Html();
        html.Raw("<section aria-labelledby=\"permissions\"><h2 id=\"permissions\">Permissions</h2>");

        // Attached managed policies.
        html.Raw("<h3 id=\"attached\">Attached managed policies</h3>");
        var (attached, attachedError) = await IdentityView.TryAsync(() => iam.ListAttachedPoliciesAsync(user.Caller, kind, owner, ct));
        if (attachedError is not null)
        {
            html.Append(attachedError);
        }
        else if (attached!.Count == 0)
        {
            html.Raw("<p class=\"empty\">No managed policies attached.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"attached\"><thead><tr><th scope=\"col\">Policy</th><th scope=\"col\">Type</th><th scope=\"col\">ARN</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var arn in attached)
            {
                html.Add($"<tr><td data-label=\"Policy\"><a href=\"{ConsoleRoutes.Policy(arn)}\">{NameOf(arn)}</a></td><td data-label=\"Type\">{(ManagedPolicies.Find(arn) is null ? "Customer managed" : "AWS managed")}</td><td data-label=\"ARN\"><code>{arn}</code></td><td>");
                html.Append(ConsoleForms.Button(user, pageUrl, DetachAction, "Detach", "secondary", $"Detach {NameOf(arn)}?", ("policy-arn", arn)));
                html.Raw("</td></tr>");
            }

            html.Raw("</tbody></table></div>");
        }

        await AttachFormAsync(html, context, user, iam, pageUrl, state);

        // Inline policies.
        html.Raw("<h3 id=\"inline\">Inline policies</h3>");
        var (inline, inlineError) = await IdentityView.TryAsync(() => iam.ListInlinePoliciesAsync(user.Caller, kind, owner, ct));
        var editName = context.Request.Query["edit"].ToString();
        var editDocument = string.Empty;
        if (inlineError is not null)
        {
            html.Append(inlineError);
        }
        else if (inline!.Count == 0)
        {
            html.Raw("<p class=\"empty\">No inline policies.</p>");
        }
        else
        {
            foreach (var policyName in inline.Take(MaxInlineShown))
            {
                var (document, error) = await IdentityView.TryAsync(() => iam.GetInlinePolicyAsync(user.Caller, kind, owner, policyName, ct));
                if (policyName == editName && document is not null)
                {
                    editDocument = document;
                }

                html.Add($"<details class=\"panel\"><summary>{policyName}</summary>");
                html.Append(error ?? new Html().Add($"<pre>{document}</pre>"));
                html.Raw("<div class=\"actions\">");
                html.Add($"<a class=\"button secondary\" href=\"{pageUrl + Html.Query(("edit", policyName))}#inline-editor\">Edit</a> ");
                html.Append(ConsoleForms.Button(user, pageUrl, DeleteAction, "Delete", "danger", $"Delete the inline policy {policyName}?", ("policy-name", policyName)));
                html.Raw("</div></details>");
            }

            if (inline.Count > MaxInlineShown)
            {
                html.Add($"<p class=\"hint\">Showing the first {MaxInlineShown} of {inline.Count} inline policies.</p>");
            }
        }

        var editing = editDocument.Length > 0 ? editName : string.Empty;
        html.Add($"<details class=\"panel\" id=\"inline-editor\"{IdentityView.OpenIf(state.Failed(PutAction) || editing.Length > 0)}><summary>{(editing.Length > 0 ? "Edit an inline policy" : "Add an inline policy")}</summary>");
        html.Append(ConsoleForms.Open(user, pageUrl, PutAction, label: "Inline policy"));
        html.Add($"<div><label for=\"policy-name\">Policy name</label><input type=\"text\" id=\"policy-name\" name=\"policy-name\" required maxlength=\"128\" autocomplete=\"off\" value=\"{state.Value(PutAction, "policy-name", editing)}\"></div>");
        html.Add($"<div><label for=\"policy-document\">Policy document (JSON)</label><textarea id=\"policy-document\" name=\"policy-document\" required spellcheck=\"false\" aria-describedby=\"policy-document-hint\">{state.Value(PutAction, "policy-document", editDocument)}</textarea>");
        html.Raw("<p class=\"hint\" id=\"policy-document-hint\">An IAM identity policy, checked as IAM checks it. Saving under an existing name replaces that policy.</p></div>");
        html.Raw("<div><button type=\"submit\">Save inline policy</button></div></form></details>");
        return html.Raw("</section>");
    }

    /// <summary>The last part of a policy ARN (its name).</summary>
    public static string NameOf(string arn) => arn[(arn.LastIndexOf('/') + 1)..];

    // A select of the AWS managed policies Wharf knows and the account's customer managed policies (as
    // many as the caller may list, within a bound), and a field for any other ARN.
    private static async Task AttachFormAsync(Html html, HttpContext context, ConsoleUser user, IdentityService iam, string pageUrl, FormState state)
    {
        var (customer, _) = await IdentityView.TryAsync(() => iam.ListCustomerPoliciesAsync(user.Caller, null, MaxOffered + 1, context.RequestAborted));
        var chosen = state.Value(AttachAction, "policy-arn");
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(AttachAction))}><summary>Attach a managed policy</summary>");
        html.Append(ConsoleForms.Open(user, pageUrl, AttachAction, label: "Attach a managed policy"));
        html.Raw("<div><label for=\"policy-arn\">Managed policy</label><select id=\"policy-arn\" name=\"policy-arn\"><optgroup label=\"AWS managed\">");
        foreach (var arn in ManagedPolicies.Arns.Order(StringComparer.Ordinal))
        {
            Option(html, arn, NameOf(arn), chosen);
        }

        html.Raw("</optgroup>");
        if (customer is { Count: > 0 })
        {
            html.Raw("<optgroup label=\"Customer managed\">");
            foreach (var policy in customer.Take(MaxOffered))
            {
                Option(html, policy.Arn, policy.Name, chosen);
            }

            html.Raw("</optgroup>");
        }

        html.Raw("</select></div>");
        html.Add($"<div><label for=\"policy-arn-other\">Or another policy's ARN</label><input type=\"text\" id=\"policy-arn-other\" name=\"policy-arn-other\" autocomplete=\"off\" value=\"{state.Value(AttachAction, "policy-arn-other")}\" aria-describedby=\"policy-arn-other-hint\">");
        html.Raw("<p class=\"hint\" id=\"policy-arn-other-hint\">When filled, this ARN is attached instead of the policy chosen above.</p></div>");
        html.Raw("<div><button type=\"submit\">Attach policy</button></div></form></details>");
    }

    private static void Option(Html html, string value, string label, string chosen)
    {
        if (value == chosen)
        {
            html.Add($"<option value=\"{value}\" selected>{label}</option>");
        }
        else
        {
            html.Add($"<option value=\"{value}\">{label}</option>");
        }
    }
}
