using Wharf.Core.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// The parts of a user's page that only users have: access keys (a new key's secret is shown once, on the
/// page that answers the form, and nowhere else), the login profile, and group memberships.
/// </summary>
internal static class UserPanels
{
    private const string CreateKeyAction = "create-key";
    private const string ActivateKeyAction = "activate-key";
    private const string DeactivateKeyAction = "deactivate-key";
    private const string DeleteKeyAction = "delete-key";
    private const string AddToGroupAction = "add-to-group";
    private const string RemoveFromGroupAction = "remove-from-group";

    // Groups offered as suggestions when adding the user to one (any other can be typed).
    private const int MaxSuggestedGroups = 200;

    /// <summary>Runs a key or group action; the notice after it, or null (a new key's secret is then on <see cref="FormState.Shown"/>, or the action is not one of these).</summary>
    public static async Task<string?> HandleAsync(HttpContext context, ConsoleUser user, string name, string action, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var ct = context.RequestAborted;
        var keyId = ConsoleForms.Field(context, "key-id") ?? string.Empty;
        var group = ConsoleForms.Field(context, "group-name")?.Trim() ?? string.Empty;
        switch (action)
        {
            case CreateKeyAction:
                state.Shown = NewKey(await iam.CreateAccessKeyAsync(user.Caller, name, ct));
                return null;
            case ActivateKeyAction or DeactivateKeyAction:
                await iam.UpdateAccessKeyAsync(user.Caller, name, keyId, action == ActivateKeyAction, ct);
                return $"The access key {keyId} is now {(action == ActivateKeyAction ? "active" : "inactive")}.";
            case DeleteKeyAction:
                await iam.DeleteAccessKeyAsync(user.Caller, name, keyId, ct);
                return $"Deleted the access key {keyId}.";
            case AddToGroupAction:
                await iam.AddUserToGroupAsync(user.Caller, group, name, ct);
                return $"Added {name} to the group {group}.";
            case RemoveFromGroupAction:
                await iam.RemoveUserFromGroupAsync(user.Caller, group, name, ct);
                return $"Removed {name} from the group {group}.";
            default:
                return await LoginProfilePanel.HandleAsync(context, user, name, action, state);
        }
    }

    public static async Task<Html> KeysAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var here = ConsoleRoutes.User(name);
        var html = new Html();
        html.Raw("<section aria-labelledby=\"keys\"><h2 id=\"keys\">Access keys</h2>");
        var (keys, error) = await IdentityView.TryAsync(() => iam.ListAccessKeysAsync(user.Caller, name, context.RequestAborted));
        if (error is not null)
        {
            return html.Append(error).Raw("</section>");
        }

        if (keys!.Count == 0)
        {
            html.Raw("<p class=\"empty\">No access keys.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"keys\"><thead><tr><th scope=\"col\">Access key ID</th><th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            var now = DateTimeOffset.UtcNow;
            foreach (var key in keys)
            {
                html.Add($"<tr><td data-label=\"Access key ID\">{IdentityView.Copyable(key.Id, "Copy access key ID")}</td><td data-label=\"Status\"><span class=\"badge\">{(key.Active ? "Active" : "Inactive")}</span></td><td data-label=\"Created\">{ConsoleFormat.Time(key.CreatedAt, now)}</td><td><div class=\"actions\">");
                html.Append(key.Active
                    ? ConsoleForms.Button(user, here, DeactivateKeyAction, "Deactivate", "secondary", null, ("key-id", key.Id))
                    : ConsoleForms.Button(user, here, ActivateKeyAction, "Activate", "secondary", null, ("key-id", key.Id)));
                html.Append(ConsoleForms.Button(user, here, DeleteKeyAction, "Delete", "danger", $"Delete the access key {key.Id}? Anything using it stops working.", ("key-id", key.Id)));
                html.Raw("</div></td></tr>");
            }

            html.Raw("</tbody></table></div>");
        }

        if (keys.Count < IdentityService.MaxKeysPerUser)
        {
            html.Append(ConsoleForms.Button(user, here, CreateKeyAction, "Create access key"));
        }
        else
        {
            html.Add($"<p class=\"hint\">A user has at most {IdentityService.MaxKeysPerUser} access keys; delete one to create another.</p>");
        }

        return html.Raw("</section>");
    }

    public static Task<Html> LoginProfileAsync(HttpContext context, ConsoleUser user, string name, FormState state) =>
        LoginProfilePanel.RenderAsync(context, user, name, state);

    public static async Task<Html> GroupsAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var ct = context.RequestAborted;
        var here = ConsoleRoutes.User(name);
        var html = new Html();
        html.Raw("<section aria-labelledby=\"groups\"><h2 id=\"groups\">Groups</h2>");
        var (groups, error) = await IdentityView.TryAsync(() => iam.ListGroupsForUserAsync(user.Caller, name, ct));
        if (error is not null)
        {
            html.Append(error);
        }
        else if (groups!.Count == 0)
        {
            html.Raw("<p class=\"empty\">Not in any group.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"groups\"><thead><tr><th scope=\"col\">Group</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var group in groups)
            {
                html.Add($"<tr><td data-label=\"Group\"><a href=\"{ConsoleRoutes.Group(group.Name)}\">{group.Name}</a></td><td>");
                html.Append(ConsoleForms.Button(user, here, RemoveFromGroupAction, "Remove from group", "secondary", $"Remove {name} from {group.Name}?", ("group-name", group.Name)));
                html.Raw("</td></tr>");
            }

            html.Raw("</tbody></table></div>");
        }

        var (suggested, _) = await IdentityView.TryAsync(() => iam.ListGroupsAsync(user.Caller, null, MaxSuggestedGroups, ct));
        html.Append(ConsoleForms.Open(user, here, AddToGroupAction, "filters", label: "Add to a group"));
        html.Add($"<div><label for=\"group-name\">Group name</label><input type=\"text\" id=\"group-name\" name=\"group-name\" required maxlength=\"128\" autocomplete=\"off\" list=\"group-names\" value=\"{state.Value(AddToGroupAction, "group-name")}\"></div>");
        html.Raw("<datalist id=\"group-names\">");
        foreach (var group in suggested ?? [])
        {
            html.Add($"<option value=\"{group.Name}\"></option>");
        }

        html.Raw("</datalist><div><button type=\"submit\">Add to group</button></div></form>");
        return html.Raw("</section>");
    }

    // The one time a secret access key is shown: on this response only, never in a cookie, URL or log.
    private static Html NewKey(NewAccessKey key)
    {
        var html = new Html();
        html.Raw("<div class=\"alert warning\" role=\"alert\" id=\"new-key\"><p class=\"headline\">Save the secret access key now: this is the only time it is shown.</p>");
        html.Raw("<p>Wharf keeps it sealed and cannot show it again. If it is lost, create a new key and delete this one.</p><dl class=\"facts\">");
        html.Append(IdentityView.Fact("Access key ID", IdentityView.Copyable(key.Record.Id, "Copy access key ID")));
        html.Append(IdentityView.Fact("Secret access key", new Html().Add($"<code class=\"secret\">{key.Secret}</code> ").Append(ConsoleFormat.CopyButton(key.Secret, "Copy secret access key"))));
        return html.Raw("</dl></div>");
    }
}
