using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Identity;

/// <summary>The tags of a user or role: listed, added or replaced one at a time, removed.</summary>
internal static class TagPanel
{
    public const string TagAction = "tag";
    public const string UntagAction = "untag";

    /// <summary>Runs a tag action; the notice after it, or null when the action is not one of these.</summary>
    public static async Task<string?> HandleAsync(HttpContext context, ConsoleUser user, PolicyOwner kind, string owner, string action, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var key = ConsoleForms.Field(context, "tag-key") ?? string.Empty;
        switch (action)
        {
            case TagAction:
                var value = ConsoleForms.Field(context, "tag-value") ?? string.Empty;
                if (key.Length is 0 or > 128 || value.Length > 256)
                {
                    state.Fail(action, "The tag is not valid.", "A tag key has 1 to 128 characters and its value at most 256.");
                    return null;
                }

                await iam.TagAsync(user.Caller, kind, owner, [new ResourceTag(key, value)], context.RequestAborted);
                return $"Tagged {owner} with {key}.";
            case UntagAction:
                await iam.UntagAsync(user.Caller, kind, owner, [key], context.RequestAborted);
                return $"Removed the tag {key}.";
            default:
                return null;
        }
    }

    public static async Task<Html> RenderAsync(HttpContext context, ConsoleUser user, PolicyOwner kind, string owner, string pageUrl, FormState state)
    {
        var iam = context.RequestServices.GetRequiredService<IdentityService>();
        var html = new Html();
        html.Raw("<section aria-labelledby=\"tags\"><h2 id=\"tags\">Tags</h2>");
        var (tags, error) = await IdentityView.TryAsync(() => iam.ListTagsAsync(user.Caller, kind, owner, context.RequestAborted));
        if (error is not null)
        {
            return html.Append(error).Raw("</section>");
        }

        if (tags!.Count == 0)
        {
            html.Raw("<p class=\"empty\">No tags.</p>");
        }
        else
        {
            html.Raw("<div class=\"table-wrap\"><table class=\"list cards\" aria-labelledby=\"tags\"><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Value</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var tag in tags)
            {
                html.Add($"<tr><td data-label=\"Key\">{tag.Key}</td><td data-label=\"Value\">{tag.Value}</td><td>");
                html.Append(ConsoleForms.Button(user, pageUrl, UntagAction, "Remove", "secondary", null, ("tag-key", tag.Key)));
                html.Raw("</td></tr>");
            }

            html.Raw("</tbody></table></div>");
        }

        if (tags.Count < IdentityService.MaxPrincipalTags)
        {
            html.Append(ConsoleForms.Open(user, pageUrl, TagAction, "filters", label: "Add a tag"));
            html.Add($"<div><label for=\"tag-key\">Tag key</label><input type=\"text\" id=\"tag-key\" name=\"tag-key\" required maxlength=\"128\" autocomplete=\"off\" value=\"{state.Value(TagAction, "tag-key")}\"></div>");
            html.Add($"<div><label for=\"tag-value\">Tag value</label><input type=\"text\" id=\"tag-value\" name=\"tag-value\" maxlength=\"256\" autocomplete=\"off\" value=\"{state.Value(TagAction, "tag-value")}\"></div>");
            html.Raw("<div><button type=\"submit\">Add tag</button></div></form>");
        }

        return html.Raw("</section>");
    }
}
