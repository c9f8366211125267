using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>
/// The account's users a page at a time with a form to create one, and a user's page: what it is, its
/// groups, access keys, login profile, permissions and tags, and deleting it.
/// </summary>
internal static class UserPages
{
    private const string CreateAction = "create-user";
    private const string DeleteAction = "delete-user";

    public static Task ListAsync(HttpContext context) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            if (action != CreateAction)
            {
                return IdentityPages.Unknown(state, action);
            }

            var name = ConsoleForms.Field(context, "user-name")?.Trim() ?? string.Empty;
            var created = await Iam(context).CreateUserAsync(user.Caller, name, context.RequestAborted);
            return new Redirect(ConsoleRoutes.User(created.Name), $"Created the user {created.Name}.");
        },
        (user, state) => RenderListAsync(context, user, state));

    public static Task UserAsync(HttpContext context, string name) => IdentityPages.HandleAsync(
        context,
        async (user, action, state) =>
        {
            var here = ConsoleRoutes.User(name);
            if (action == DeleteAction)
            {
                state.ConflictHint = "Remove the user's access keys, policies, groups and login profile first.";
                await Iam(context).DeleteUserAsync(user.Caller, name, context.RequestAborted);
                return new Redirect(ConsoleRoutes.Users, $"Deleted the user {name}.");
            }

            var notice = await PolicyPanel.HandleAsync(context, user, PolicyOwner.User, name, action)
                ?? await TagPanel.HandleAsync(context, user, PolicyOwner.User, name, action, state)
                ?? await UserPanels.HandleAsync(context, user, name, action, state);
            return IdentityPages.Done(notice, here, state, action);
        },
        (user, state) => RenderUserAsync(context, user, name, state));

    private static async Task RenderListAsync(HttpContext context, ConsoleUser user, FormState state)
    {
        var after = IdentityView.After(context);
        var size = IdentityView.PageSize(context);
        var (users, error, failed) = await IdentityView.TryPageAsync(() => Iam(context).ListUsersAsync(user.Caller, after, size + 1, context.RequestAborted));
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Users</h1></div>");
        html.Append(state.Error ?? new Html());
        html.Add($"<details class=\"panel\"{IdentityView.OpenIf(state.Failed(CreateAction))}><summary>Create a user</summary>");
        html.Append(ConsoleForms.Open(user, ConsoleRoutes.Users, CreateAction, label: "Create a user"));
        html.Add($"<div><label for=\"user-name\">User name</label><input type=\"text\" id=\"user-name\" name=\"user-name\" required maxlength=\"64\" autocomplete=\"off\" aria-describedby=\"user-name-hint\" value=\"{state.Value(CreateAction, "user-name")}\">");
        html.Raw("<p class=\"hint\" id=\"user-name-hint\">Up to 64 letters, digits and <code>+=,.@_-</code>.</p></div>");
        html.Raw("<div><button type=\"submit\">Create user</button></div></form></details>");

        var status = state.Status;
        if (error is not null)
        {
            html.Append(error);
            status = status == StatusCodes.Status200OK ? failed : status;
        }
        else if (users!.Count == 0)
        {
            html.Raw(after is null ? "<p class=\"empty\">This account has no IAM users yet.</p>" : "<p class=\"empty\">No more users.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Users</caption><thead><tr><th scope=\"col\">User name</th><th scope=\"col\">User ID</th><th scope=\"col\">Created</th></tr></thead><tbody>");
            var now = DateTimeOffset.UtcNow;
            foreach (var u in users.Take(size))
            {
                html.Add($"<tr><td data-label=\"User name\"><a href=\"{ConsoleRoutes.User(u.Name)}\">{u.Name}</a></td><td data-label=\"User ID\"><code>{u.UniqueId}</code></td><td data-label=\"Created\">{ConsoleFormat.Time(u.CreatedAt, now)}</td></tr>");
            }

            html.Raw("</tbody></table></div>");
            html.Append(IdentityView.Pager(ConsoleRoutes.Users, after, users.Count > size ? users[size - 1].Name : null));
        }

        await IdentityView.WriteAsync(context, user, IdentityTab.Users, "Users", html, status, ("Users", null));
    }

    private static async Task RenderUserAsync(HttpContext context, ConsoleUser user, string name, FormState state)
    {
        var iam = Iam(context);
        var here = ConsoleRoutes.User(name);
        var html = new Html();
        var (found, error, failed) = await IdentityView.TryPageAsync(() => iam.GetUserAsync(user.Caller, name, context.RequestAborted));
        html.Add($"<div class=\"page-head\"><h1>User {name}</h1><div class=\"actions\">");
        if (error is null)
        {
            html.Append(ConsoleForms.Button(user, here, DeleteAction, "Delete user", "danger", $"Delete the user {name}? Its access keys, policies, groups and login profile must be removed first."));
        }

        html.Raw("</div></div>");
        html.Append(state.Shown ?? new Html());
        html.Append(state.Error ?? new Html());

        if (found is null)
        {
            html.Append(error!);
            await IdentityView.WriteAsync(context, user, IdentityTab.Users, name, html, state.Status == StatusCodes.Status200OK ? failed : state.Status, ("Users", ConsoleRoutes.Users), (name, null));
            return;
        }

        html.Raw("<dl class=\"facts\">");
        html.Append(IdentityView.Fact("ARN", IdentityView.Copyable(found.Arn, "Copy ARN")));
        html.Append(IdentityView.Fact("User ID", new Html().Add($"<code>{found.UniqueId}</code>")));
        html.Append(IdentityView.Fact("Created", ConsoleFormat.Time(found.CreatedAt, DateTimeOffset.UtcNow)));
        html.Raw("</dl>");

        html.Append(await UserPanels.KeysAsync(context, user, name, state));
        html.Append(await UserPanels.LoginProfileAsync(context, user, name, state));
        html.Append(await UserPanels.GroupsAsync(context, user, name, state));
        html.Append(await PolicyPanel.RenderAsync(context, user, PolicyOwner.User, name, here, state));
        html.Append(await TagPanel.RenderAsync(context, user, PolicyOwner.User, name, here, state));
        await IdentityView.WriteAsync(context, user, IdentityTab.Users, name, html, state.Status, ("Users", ConsoleRoutes.Users), (name, null));
    }

    private static IdentityService Iam(HttpContext context) => context.RequestServices.GetRequiredService<IdentityService>();
}
