using Wharf.Core.Identity;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>The account's groups with a form to create one, and a group's page: members, permissions, deleting it.</summary>
internal static class GroupPages
{
    private const string CreateAction = "create-group";
    private const string DeleteAction = "delete-group";
    private const string AddUserAction = "add-user";
    private const string RemoveUserAction = "remove-user";

    // Members shown on a group's page (IAM's GetGroup pages them too).
    private const int MaxMembersShown = 500;

    public static Task ListAsync(HttpContext context) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            if (action != CreateAction)
            {
                return IdentityPages.Unknown(state, action);
            }

            var name = ConsoleForms.Field(context, "group-name")?.Trim() ?? string.Empty;
            var created = await Iam(context).CreateGroupAsync(user.Caller, name, context.RequestAborted);
            return new Redirect(ConsoleRoutes.Group(created.Name), $"Created the group {created.Name}.");
        },
        (user, state) => RenderListAsync(context, user, state));

    public static Task GroupAsync(HttpContext context, string name) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            var iam = Iam(context);
            var ct = context.RequestAborted;
            var here = ConsoleRoutes.Group(name);
            var member = ConsoleForms.Field(context, "user-name")?.Trim() ?? string.Empty;
            switch (action)
            {
                case DeleteAction:
                    state.ConflictHint = "Remove the group's users and policies first.";
                    await iam.DeleteGroupAsync(user.Caller, name, ct);
                    return new Redirect(ConsoleRoutes.Groups, $"Deleted the group {name}.");
                case AddUserAction:
                    await iam.AddUserToGroupAsync(user.Caller, name, member, ct);
                    return new Redirect(here, $"Added {member} to the group.");
                case RemoveUserAction:
                    await iam.RemoveUserFromGroupAsync(user.Caller, name, member, ct);
                    return new Redirect(here, $"Removed {member} from the group.");
                default:
                    return IdentityPages.Done(await PolicyPanel.HandleAsync(context, user, PolicyOwner.Group, name, action), here, state, action);
            }
        },
        (user, state) => RenderGroupAsync(context, user, name, state));

    private static async Task RenderListAsync(HttpContext context, ConsoleUser user, FormState state)
    {
        var after = IdentityView.After(context);
        var size = IdentityView.PageSize(context);
        var (groups, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).ListGroupsAsync(user.Caller, after, size + 1, context.RequestAborted));
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Groups</h1></div>");
        html.Append(state.Error ?? new Html());
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(CreateAction))}><summary>Create a group</summary>");
        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Groups, CreateAction, label: "Create a group"));
        html.Add($"<div><label for=\"group-name\">Group name</label><input type=\"text\" id=\"group-name\" name=\"group-name\" required maxlength=\"128\" autocomplete=\"off\" value=\"{state.Value(CreateAction, "group-name")}\"></div>");
        html.Raw("<div><button type=\"submit\">Create group</button></div></form></details>");

        var status = state.Status;
        if (error is not null)
        {
            html.Append(error);
            status = status == StatusCodes.Status200OK ? failed : status;
        }
        else if (groups!.Count == 0)
        {
            html.Raw(after is null ? "<p class=\"empty\">This account has no groups yet.</p>" : "<p class=\"empty\">No more groups.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Groups</caption><thead><tr><th scope=\"col\">Group name</th><th scope=\"col\">Group ID</th><th scope=\"col\">Created</th></tr></thead><tbody>");
            var now = DateTimeOffset.UtcNow;
            foreach (var g in groups.Take(size))
            {
                html.Add($"<tr><td data-label=\"Group name\"><a href=\"{ConsoleRoutes.Group(g.Name)}\">{g.Name}</a></td><td data-label=\"Group ID\"><code>{g.UniqueId}</code></td><td data-label=\"Created\">{ConsoleFormat.Time(g.CreatedAt, now)}</td></tr>");
            }

            html.Raw("</tbody></table></div>");
            html.Append(IdentityView.Pager(ConsoleRoutes.Groups, after, groups.Count > size ? groups[size - 1].Name : null));
        }

        await IdentityView.WriteAsync(context, user, IdentityTab.Groups, "Groups", html, status, ("Groups", null));
    }

    private static async Task RenderGroupAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var here = ConsoleRoutes.Group(name);
        var html = new Html();
        var (found, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).GetGroupAsync(user.Caller, name, context.RequestAborted));
        html.Add($"<div class=\"page-head\"><h1>Group {name}</h1><div class=\"actions\">");
        if (error is null)
        {
            html.Append(ConsoleForms.Button(user, here, DeleteAction, "Delete group", "danger", $"Delete the group {name}? Its users and policies must be removed first."));
        }

        html.Raw("</div></div>");
        html.Append(state.Error ?? new Html());

        if (error is not null)
        {
            html.Append(error);
            await IdentityView.WriteAsync(context, user, IdentityTab.Groups, name, html, state.Status == StatusCodes.Status200OK ? failed : state.Status, ("Groups", ConsoleRoutes.Groups), (name, null));
            return;
        }

        var (group, members) = found;
        html.Raw("<dl class=\"facts\">");
        html.Append(IdentityView.Fact("ARN", IdentityView.Copyable(group.Arn, "Copy ARN")));
        html.Append(IdentityView.Fact("Group ID", new Html().Add($"<code>{group.UniqueId}</code>")));
        html.Append(IdentityView.Fact("Created", ConsoleFormat.Time(group.CreatedAt, DateTimeOffset.UtcNow)));
        html.Raw("</dl>");

        html.Raw("<section aria-labelledby=\"members\"><h2 id=\"members\">Users</h2>");
        if (members.Count == 0)
        {
            html.Raw("<p class=\"empty\">No users in this group.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"members\"><thead><tr><th scope=\"col\">User</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var member in members.Take(MaxMembersShown))
            {
                html.Add($"<tr><td data-label=\"User\"><a href=\"{ConsoleRoutes.User(member.Name)}\">{member.Name}</a></td><td>");
                html.Append(ConsoleForms.Button(user, here, RemoveUserAction, "Remove from group", "secondary", $"Remove {member.Name} from {name}?", ("user-name", member.Name)));
                html.Raw("</td></tr>");
            }

            html.Raw("</tbody></table></div>");
            if (members.Count > MaxMembersShown)
            {
                html.Add($"<p class=\"hint\">Showing the first {MaxMembersShown} of {members.Count} users.</p>");
            }
        }

        html.Append(ConsoleForms.Open(user, here, AddUserAction, "filters", label: "Add a user"));
        html.Add($"<div><label for=\"user-name\">User name</label><input type=\"text\" id=\"user-name\" name=\"user-name\" required maxlength=\"64\" autocomplete=\"off\" value=\"{state.Value(AddUserAction, "user-name")}\"></div>");
        html.Raw("<div><button type=\"submit\">Add user</button></div></form></section>");

        html.Append(await PolicyPanel.RenderAsync(context, user, PolicyOwner.Group, name, here, state));
        await IdentityView.WriteAsync(context, user, IdentityTab.Groups, name, html, state.Status, ("Groups", ConsoleRoutes.Groups), (name, null));
    }

    private static IdentityService Iam(HttpContext context) => context.RequestServices.GetRequiredService<IdentityService>();
}
