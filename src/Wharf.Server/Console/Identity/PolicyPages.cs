using Wharf.Core.Identity;
using Wharf.Core.Security.Policies;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// Managed policies: the account's customer managed policies a page at a time with a form to create one,
/// the AWS managed policies Wharf knows, and a policy's page (attachments, versions, a version's document,
/// a new version, the default version, deleting it).
/// </summary>
internal static class PolicyPages
{
    private const string CreateAction = "create-policy";
    private const string NewVersionAction = "create-version";
    private const string SetDefaultAction = "set-default";
    private const string DeleteVersionAction = "delete-version";
    private const string DeleteAction = "delete-policy";

    public static Task ListAsync(HttpContext context) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            if (action != CreateAction)
            {
                return IdentityPages.Unknown(state, action);
            }

            var name = ConsoleForms.Field(context, "policy-name")?.Trim() ?? string.Empty;
            var description = ConsoleForms.Field(context, "description")?.Trim();
            var document = ConsoleForms.Field(context, "policy-document") ?? string.Empty;
            var created = await Iam(context).CreatePolicyAsync(user.Caller, name, document, string.IsNullOrEmpty(description) ? null : description, context.RequestAborted);
            return new Redirect(ConsoleRoutes.Policy(created.Arn), $"Created the policy {created.Name}.");
        },
        (user, state) => RenderListAsync(context, user, state));

    public static Task PolicyAsync(HttpContext context)
    {
        var arn = context.Request.Query["arn"].ToString();
        if (arn.Length is 0 or > 2048)
        {
            var user = ConsoleRequest.User(context);
            return IdentityView.WriteAsync(context, user, IdentityTab.Policies, "No policy given", ConsoleErrors.Banner("No policy given.", "Open a policy from the list of policies."), StatusCodes.Status400BadRequest, ("Policies", ConsoleRoutes.Policies));
        }

        return IdentityPages.HandleAsync(
            context,
            async (user, action, state) =>
            {
                var iam = Iam(context);
                var ct = context.RequestAborted;
                var here = ConsoleRoutes.Policy(arn);
                var version = ConsoleForms.Field(context, "version") ?? string.Empty;
                switch (action)
                {
                    case NewVersionAction:
                        var created = await iam.CreatePolicyVersionAsync(user.Caller, arn, ConsoleForms.Field(context, "policy-document") ?? string.Empty, ConsoleForms.Field(context, "set-default") == "true", ct);
                        return new Redirect(here, $"Created version {created.VersionId}{(created.IsDefault ? ", now the default" : string.Empty)}.");
                    case SetDefaultAction:
                        await iam.SetDefaultPolicyVersionAsync(user.Caller, arn, version, ct);
                        return new Redirect(here, $"Version {version} is now the default.");
                    case DeleteVersionAction:
                        await iam.DeletePolicyVersionAsync(user.Caller, arn, version, ct);
                        return new Redirect(here, $"Deleted version {version}.");
                    case DeleteAction:
                        state.ConflictHint = "Detach the policy everywhere and delete its other versions first.";
                        await iam.DeletePolicyAsync(user.Caller, arn, ct);
                        return new Redirect(ConsoleRoutes.Policies, $"Deleted the policy {PolicyPanel.NameOf(arn)}.");
                    default:
                        return IdentityPages.Unknown(state, action);
                }
            },
            (user, state) => RenderPolicyAsync(context, user, arn, state));
    }

    private static async Task RenderListAsync(HttpContext context, ConsoleUser user, FormState state)
    {
        var after = IdentityView.After(context);
        var size = IdentityView.PageSize(context);
        var (policies, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).ListCustomerPoliciesAsync(user.Caller, after, size + 1, context.RequestAborted));
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Policies</h1></div>");
        html.Append(state.Error ?? new Html());
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(CreateAction))}><summary>Create a policy</summary>");
        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Policies, CreateAction, label: "Create a policy"));
        html.Add($"<div><label for=\"policy-name\">Policy name</label><input type=\"text\" id=\"policy-name\" name=\"policy-name\" required maxlength=\"128\" autocomplete=\"off\" value=\"{state.Value(CreateAction, "policy-name")}\"></div>");
        html.Add($"<div><label for=\"description\">Description (optional)</label><input type=\"text\" id=\"description\" name=\"description\" maxlength=\"1000\" autocomplete=\"off\" value=\"{state.Value(CreateAction, "description")}\"></div>");
        html.Add($"<div><label for=\"policy-document\">Policy document (JSON)</label><textarea id=\"policy-document\" name=\"policy-document\" required spellcheck=\"false\">{state.Value(CreateAction, "policy-document")}</textarea></div>");
        html.Raw("<div><button type=\"submit\">Create policy</button></div></form></details>");

        html.Raw("<h2 id=\"customer\">Customer managed policies</h2>");
        var status = state.Status;
        if (error is not null)
        {
            html.Append(error);
            status = status == StatusCodes.Status200OK ? failed : status;
        }
        else if (policies!.Count == 0)
        {
            html.Raw(after is null ? "<p class=\"empty\">This account has no customer managed policies yet.</p>" : "<p class=\"empty\">No more policies.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"customer\"><thead><tr><th scope=\"col\">Policy name</th><th scope=\"col\">Description</th><th scope=\"col\" class=\"num\">Attachments</th><th scope=\"col\">Default version</th><th scope=\"col\">Updated</th></tr></thead><tbody>");
            var now = DateTimeOffset.UtcNow;
            foreach (var p in policies.Take(size))
            {
                html.Add($"<tr><td data-label=\"Policy name\"><a href=\"{ConsoleRoutes.Policy(p.Arn)}\">{p.Name}</a></td><td data-label=\"Description\">{p.Description}</td><td data-label=\"Attachments\" class=\"num\">{p.AttachmentCount}</td><td data-label=\"Default version\">{p.DefaultVersionId}</td><td data-label=\"Updated\">{ConsoleFormat.Time(p.UpdatedAt, now)}</td></tr>");
            }

            html.Raw("</tbody></table></div>");
            html.Append(IdentityView.Pager(ConsoleRoutes.Policies, after, policies.Count > size ? policies[size - 1].Name : null));
        }

        html.Raw("<h2 id=\"aws\">AWS managed policies</h2><p class=\"hint\">The AWS managed policies Wharf knows; they can be attached but not changed.</p><ul>");
        foreach (var arn in ManagedPolicies.Arns.Order(StringComparer.Ordinal))
        {
            html.Add($"<li><a href=\"{ConsoleRoutes.Policy(arn)}\">{PolicyPanel.NameOf(arn)}</a></li>");
        }

        html.Raw("</ul>");
        await IdentityView.WriteAsync(context, user, IdentityTab.Policies, "Policies", html, status, ("Policies", null));
    }

    private static async Task RenderPolicyAsync(HttpContext context, ConsoleUser user, string arn, FormState state)
    {
        var iam = Iam(context);
        var ct = context.RequestAborted;
        var here = ConsoleRoutes.Policy(arn);
        var name = PolicyPanel.NameOf(arn);
        var awsManaged = ManagedPolicies.Find(arn) is not null;
        var html = new Html();
        var (policy, error, failed) = await IdentityView.TryPageAsync(() => iam.GetPolicyAsync(user.Caller, arn, ct));
        html.Add($"<div class=\"page-head\"><h1>Policy {name}</h1><div class=\"actions\">");
        if (!awsManaged && error is null)
        {
            html.Append(ConsoleForms.Button(user, here, DeleteAction, "Delete policy", "danger", $"Delete the policy {name}? It must be detached everywhere first."));
        }

        html.Raw("</div></div>");
        html.Append(state.Error ?? new Html());
        if (policy is null)
        {
            html.Append(error!);
            await IdentityView.WriteAsync(context, user, IdentityTab.Policies, name, html, state.Status == StatusCodes.Status200OK ? failed : state.Status, ("Policies", ConsoleRoutes.Policies), (name, null));
            return;
        }

        var now = DateTimeOffset.UtcNow;
        html.Raw("<dl class=\"facts\">");
        html.Append(IdentityView.Fact("ARN", IdentityView.Copyable(policy.Arn, "Copy ARN")));
        html.Append(IdentityView.Fact("Type", new Html().Text(awsManaged ? "AWS managed" : "Customer managed")));
        html.Append(IdentityView.Fact("Policy ID", new Html().Add($"<code>{policy.UniqueId}</code>")));
        if (!string.IsNullOrEmpty(policy.Description))
        {
            html.Append(IdentityView.Fact("Description", new Html().Text(policy.Description)));
        }

        html.Append(IdentityView.Fact("Attachments", new Html().Number(policy.AttachmentCount)));
        html.Append(IdentityView.Fact("Default version", new Html().Text(policy.DefaultVersionId)));
        html.Append(IdentityView.Fact("Created", ConsoleFormat.Time(policy.CreatedAt, now)));
        html.Append(IdentityView.Fact("Updated", ConsoleFormat.Time(policy.UpdatedAt, now)));
        html.Raw("</dl>");

        var (versions, versionsError) = await IdentityView.TryAsync(() => iam.ListPolicyVersionsAsync(user.Caller, arn, ct));
        var wanted = context.Request.Query["version"].ToString();
        var shown = versions?.FirstOrDefault(v => v.VersionId == wanted) ?? versions?.FirstOrDefault(v => v.IsDefault);
        html.Raw("<section aria-labelledby=\"versions\"><h2 id=\"versions\">Versions</h2>");
        if (versionsError is not null)
        {
            html.Append(versionsError);
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"versions\"><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Default</th><th scope=\"col\">Created</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var v in versions!)
            {
                html.Add($"<tr><td data-label=\"Version\"><a href=\"{here + "&" + Html.Query(("version", v.VersionId))[1..]}\">{v.VersionId}</a></td><td data-label=\"Default\">{(v.IsDefault ? new Html().Raw("<span class=\"badge\">Default</span>") : new Html())}</td><td data-label=\"Created\">{ConsoleFormat.Time(v.CreatedAt, now)}</td><td><div class=\"actions\">");
                if (!awsManaged && !v.IsDefault)
                {
                    html.Append(ConsoleForms.Button(user, here, SetDefaultAction, "Set as default", "secondary", null, ("version", v.VersionId)));
                    html.Append(ConsoleForms.Button(user, here, DeleteVersionAction, "Delete", "danger", $"Delete version {v.VersionId}?", ("version", v.VersionId)));
                }

                html.Raw("</div></td></tr>");
            }

            html.Raw("</tbody></table></div>");
        }

        html.Raw("</section>");
        if (shown is not null)
        {
            html.Add($"<section aria-labelledby=\"document\"><h2 id=\"document\">Document of version {shown.VersionId}{(shown.IsDefault ? " (default)" : string.Empty)}</h2><pre>{shown.Document}</pre></section>");
        }

        if (!awsManaged)
        {
            html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(NewVersionAction))}><summary>Create a new version</summary>");
            html.Append(ConsoleForms.Open(user, here, NewVersionAction, label: "Create a new version"));
            html.Add($"<div><label for=\"policy-document\">Policy document (JSON)</label><textarea id=\"policy-document\" name=\"policy-document\" required spellcheck=\"false\">{state.Value(NewVersionAction, "policy-document", shown?.Document ?? string.Empty)}</textarea></div>");
            var setDefault = !state.Failed(NewVersionAction) || state.Value(NewVersionAction, "set-default") == "true";
            html.Add($"<label class=\"check\"><input type=\"checkbox\" name=\"set-default\" value=\"true\"{(setDefault ? new Html().Raw(" checked") : new Html())}> Make it the default version</label>");
            html.Add($"<p class=\"hint\">A policy keeps at most {IdentityService.MaxPolicyVersions} versions; delete one to add another.</p>");
            html.Raw("<div><button type=\"submit\">Create version</button></div></form></details>");
        }

        await IdentityView.WriteAsync(context, user, IdentityTab.Policies, name, html, state.Status, ("Policies", ConsoleRoutes.Policies), (name, null));
    }

    private static IdentityService Iam(HttpContext context) => context.RequestServices.GetRequiredService<IdentityService>();
}
