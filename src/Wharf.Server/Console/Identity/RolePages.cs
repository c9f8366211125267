using System.Globalization;
using Wharf.Core.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>The account's roles with a form to create one, and a role's page: its trust policy (editable), permissions, tags, deleting it.</summary>
internal static class RolePages
{
    private const string CreateAction = "create-role";
    private const string DeleteAction = "delete-role";
    private const string TrustAction = "update-trust-policy";

    public static Task ListAsync(HttpContext context) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            if (action != CreateAction)
            {
                return IdentityPages.Unknown(state, action);
            }

            var name = ConsoleForms.Field(context, "role-name")?.Trim() ?? string.Empty;
            var trust = ConsoleForms.Field(context, "trust-policy") ?? string.Empty;
            var maxText = ConsoleForms.Field(context, "max-session")?.Trim();
            int? max = null;
            if (!string.IsNullOrEmpty(maxText))
            {
                if (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    state.Fail(action, "The maximum session duration is not a number.", "Give it in seconds, from 3600 (1 hour) to 43200 (12 hours).");
                    return null;
                }

                max = seconds;
            }

            var created = await Iam(context).CreateRoleAsync(user.Caller, name, trust, max, context.RequestAborted);
            return new Redirect(ConsoleRoutes.Role(created.Principal.Name), $"Created the role {created.Principal.Name}.");
        },
        (user, state) => RenderListAsync(context, user, state));

    public static Task RoleAsync(HttpContext context, string name) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            var here = ConsoleRoutes.Role(name);
            switch (action)
            {
                case DeleteAction:
                    state.ConflictHint = "Remove the role's policies first.";
                    await Iam(context).DeleteRoleAsync(user.Caller, name, context.RequestAborted);
                    return new Redirect(ConsoleRoutes.Roles, $"Deleted the role {name}.");
                case TrustAction:
                    await Iam(context).UpdateAssumeRolePolicyAsync(user.Caller, name, ConsoleForms.Field(context, "trust-policy") ?? string.Empty, context.RequestAborted);
                    return new Redirect(here, "Saved the trust policy.");
                default:
                    var notice = await PolicyPanel.HandleAsync(context, user, PolicyOwner.Role, name, action)
                        ?? await TagPanel.HandleAsync(context, user, PolicyOwner.Role, name, action, state);
                    return IdentityPages.Done(notice, here, state, action);
            }
        },
        (user, state) => RenderRoleAsync(context, user, name, state));

    private static async Task RenderListAsync(HttpContext context, ConsoleUser user, FormState state)
    {
        var after = IdentityView.After(context);
        var size = IdentityView.PageSize(context);
        var (roles, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).ListRolesAsync(user.Caller, after, size + 1, context.RequestAborted));
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Roles</h1></div>");
        html.Append(state.Error ?? new Html());
        var template = $$"""
            {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Effect": "Allow",
                  "Principal": { "AWS": "arn:aws:iam::{{user.Caller.Account}}:root" },
                  "Action": "sts:AssumeRole"
                }
              ]
            }
            """;
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(CreateAction))}><summary>Create a role</summary>");
        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Roles, CreateAction, label: "Create a role"));
        html.Add($"<div><label for=\"role-name\">Role name</label><input type=\"text\" id=\"role-name\" name=\"role-name\" required maxlength=\"64\" autocomplete=\"off\" value=\"{state.Value(CreateAction, "role-name")}\"></div>");
        html.Add($"<div><label for=\"trust-policy\">Trust policy (JSON)</label><textarea id=\"trust-policy\" name=\"trust-policy\" required spellcheck=\"false\" aria-describedby=\"trust-policy-hint\">{state.Value(CreateAction, "trust-policy", template)}</textarea>");
        html.Raw("<p class=\"hint\" id=\"trust-policy-hint\">Who may assume the role (<code>sts:AssumeRole</code>). As written, principals of this account whose own policies allow it.</p></div>");
        html.Add($"<div><label for=\"max-session\">Maximum session duration (seconds)</label><input type=\"number\" id=\"max-session\" name=\"max-session\" min=\"3600\" max=\"43200\" step=\"1\" value=\"{state.Value(CreateAction, "max-session", "3600")}\" aria-describedby=\"max-session-hint\">");
        html.Raw("<p class=\"hint\" id=\"max-session-hint\">From 3600 (1 hour) to 43200 (12 hours).</p></div>");
        html.Raw("<div><button type=\"submit\">Create role</button></div></form></details>");

        var status = state.Status;
        if (error is not null)
        {
            html.Append(error);
            status = status == StatusCodes.Status200OK ? failed : status;
        }
        else if (roles!.Count == 0)
        {
            html.Raw(after is null ? "<p class=\"empty\">This account has no roles yet.</p>" : "<p class=\"empty\">No more roles.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Roles</caption><thead><tr><th scope=\"col\">Role name</th><th scope=\"col\">Role ID</th><th scope=\"col\" class=\"num\">Maximum session</th><th scope=\"col\">Created</th></tr></thead><tbody>");
            var now = DateTimeOffset.UtcNow;
            foreach (var r in roles.Take(size))
            {
                html.Add($"<tr><td data-label=\"Role name\"><a href=\"{ConsoleRoutes.Role(r.Principal.Name)}\">{r.Principal.Name}</a></td><td data-label=\"Role ID\"><code>{r.Principal.UniqueId}</code></td><td data-label=\"Maximum session\" class=\"num\">{Duration(r.MaxSessionSeconds)}</td><td data-label=\"Created\">{ConsoleFormat.Time(r.Principal.CreatedAt, now)}</td></tr>");
            }

            html.Raw("</tbody></table></div>");
            html.Append(IdentityView.Pager(ConsoleRoutes.Roles, after, roles.Count > size ? roles[size - 1].Principal.Name : null));
        }

        await IdentityView.WriteAsync(context, user, IdentityTab.Roles, "Roles", html, status, ("Roles", null));
    }

    private static async Task RenderRoleAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var here = ConsoleRoutes.Role(name);
        var html = new Html();
        var (role, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).GetRoleAsync(user.Caller, name, context.RequestAborted));
        html.Add($"<div class=\"page-head\"><h1>Role {name}</h1><div class=\"actions\">");
        if (error is null)
        {
            html.Append(ConsoleForms.Button(user, here, DeleteAction, "Delete role", "danger", $"Delete the role {name}? Its policies must be removed first; its sessions stop working."));
        }

        html.Raw("</div></div>");
        html.Append(state.Error ?? new Html());

        if (role is null)
        {
            html.Append(error!);
            await IdentityView.WriteAsync(context, user, IdentityTab.Roles, name, html, state.Status == StatusCodes.Status200OK ? failed : state.Status, ("Roles", ConsoleRoutes.Roles), (name, null));
            return;
        }

        html.Raw("<dl class=\"facts\">");
        html.Append(IdentityView.Fact("ARN", IdentityView.Copyable(role.Principal.Arn, "Copy ARN")));
        html.Append(IdentityView.Fact("Role ID", new Html().Add($"<code>{role.Principal.UniqueId}</code>")));
        html.Append(IdentityView.Fact("Maximum session", new Html().Text(Duration(role.MaxSessionSeconds))));
        html.Append(IdentityView.Fact("Created", ConsoleFormat.Time(role.Principal.CreatedAt, DateTimeOffset.UtcNow)));
        html.Raw("</dl>");

        html.Raw("<section aria-labelledby=\"trust\"><h2 id=\"trust\">Trust policy</h2>");
        html.Add($"<pre>{role.TrustPolicy}</pre>");
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(TrustAction))}><summary>Edit the trust policy</summary>");
        html.Append(ConsoleForms.Open(user, here, TrustAction, label: "Trust policy"));
        html.Add($"<div><label for=\"trust-policy\">Trust policy (JSON)</label><textarea id=\"trust-policy\" name=\"trust-policy\" required spellcheck=\"false\">{state.Value(TrustAction, "trust-policy", role.TrustPolicy)}</textarea></div>");
        html.Raw("<div><button type=\"submit\">Save trust policy</button></div></form></details></section>");

        html.Append(await PolicyPanel.RenderAsync(context, user, PolicyOwner.Role, name, here, state));
        html.Append(await TagPanel.RenderAsync(context, user, PolicyOwner.Role, name, here, state));
        await IdentityView.WriteAsync(context, user, IdentityTab.Roles, name, html, state.Status, ("Roles", ConsoleRoutes.Roles), (name, null));
    }

    private static string Duration(int seconds) =>
        seconds % 3600 == 0 ? $"{seconds / 3600} hour{(seconds == 3600 ? string.Empty : "s")}" : $"{seconds} seconds";

    private static IdentityService Iam(HttpContext context) => context.RequestServices.GetRequiredService<IdentityService>();
}
