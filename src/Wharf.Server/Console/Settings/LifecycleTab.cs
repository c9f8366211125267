using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>
/// A repository's lifecycle policy: a JSON editor that saves through <c>PutLifecyclePolicy</c>'s checks,
/// previews the text in the editor (<c>StartLifecyclePolicyPreview</c> then <c>GetLifecyclePolicyPreview</c>:
/// the images it would expire, paged), deletes the policy, and a reference of the rule fields.
/// </summary>
/// <remarks>
/// A preview runs to completion within <see cref="LifecycleService.StartPreviewAsync"/>, so the redirect after
/// it lands on a finished preview; a preview someone else started still running shows as in progress with a
/// Refresh link (no script polls).
/// </remarks>
internal static class LifecycleTab
{
    private const string Example = """
        {
          "rules": [
            {
              "rulePriority": 1,
              "description": "Expire untagged images older than 14 days",
              "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14
              },
              "action": { "type": "expire" }
            }
          ]
        }
        """;

    public static async Task<(string Location, string Notice)> PostAsync(HttpContext context, ConsoleUser user, RepositoryKey key, string action, CancellationToken cancellationToken)
    {
        var lifecycle = context.RequestServices.GetRequiredService<LifecycleService>();
        var here = ConsoleRoutes.RepositorySettings(key, "lifecycle");
        var input = new JsonObject { ["registryId"] = key.Registry.Account.Value, ["repositoryName"] = key.Name.Value };
        switch (action)
        {
            case "policy":
            {
                var text = ConsoleForms.Field(context, "policy") ?? string.Empty;
                input["lifecyclePolicyText"] = text;
                if (ConsoleForms.Field(context, "intent") == "preview")
                {
                    EcrInput.Check("StartLifecyclePolicyPreview", input);
                    await lifecycle.StartPreviewAsync(user.Caller, key, text, cancellationToken);
                    return (here + "&preview=1", "Preview finished: below is what this policy would do now. Nothing was changed or saved.");
                }

                EcrInput.Check("PutLifecyclePolicy", input);
                await lifecycle.PutPolicyAsync(user.Caller, key, text, cancellationToken);
                return (here, "Lifecycle policy saved. The lifecycle job applies it on its next run.");
            }

            case "delete-policy":
                EcrInput.Check("DeleteLifecyclePolicy", input);
                await lifecycle.DeletePolicyAsync(user.Caller, key, cancellationToken);
                return (here, "Lifecycle policy deleted.");

            default:
                throw RepositorySettingsPage.UnknownAction();
        }
    }

    public static async Task WriteAsync(Html body, HttpContext context, ConsoleUser user, RepositoryKey key, string? posted, CancellationToken cancellationToken)
    {
        var lifecycle = context.RequestServices.GetRequiredService<LifecycleService>();
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        LifecyclePolicyRecord? saved = null;
        WharfException? unreadable = null;
        try
        {
            saved = await lifecycle.GetPolicyAsync(user.Caller, key, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.LifecyclePolicyNotFound)
        {
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.Denied)
        {
            unreadable = e;
        }

        (LifecyclePreviewRecord Preview, IReadOnlyList<LifecyclePreviewEntry> Results)? preview = null;
        WharfException? previewUnreadable = null;
        if (context.Request.Query["preview"] == "1")
        {
            try
            {
                preview = await lifecycle.GetPreviewAsync(user.Caller, key, cancellationToken);
            }
            catch (WharfException e) when (e.Code is WharfErrorCode.LifecyclePolicyPreviewNotFound or WharfErrorCode.Denied)
            {
                previewUnreadable = e;
            }
        }

        var action = ConsoleRoutes.RepositorySettings(key, "lifecycle");
        body.Raw("<section aria-labelledby=\"lifecycle-heading\"><h2 id=\"lifecycle-heading\">Lifecycle policy</h2>");
        if (unreadable is not null)
        {
            body.Raw("<p>The saved policy cannot be shown to you:</p>").Append(ConsoleErrors.Banner(unreadable));
        }
        else if (saved is null)
        {
            body.Raw("<p class=\"muted\">This repository has no lifecycle policy: nothing expires. The editor holds an example; preview it to see what it would do.</p>");
        }
        else
        {
            body.Add($"<p>A policy is saved. Last applied: {ConsoleFormat.Time(saved.LastEvaluatedAt, now)}.</p>");
        }

        if (preview is { } shown && shown.Preview.Policy != saved?.Text && posted is null)
        {
            body.Raw("<p class=\"alert warning\">The editor shows the policy you previewed, which is not saved. Save it to apply it.</p>");
        }

        var text = SettingsPages.Typed(context, posted, "policy", "policy") ?? preview?.Preview.Policy ?? saved?.Text ?? Example;
        body.Append(ConsoleForms.Open(user, action, "policy"));
        body.Append(SettingsPages.Editor(
            "lifecycle-policy",
            "policy",
            "Lifecycle policy (JSON)",
            text,
            "Checked as PutLifecyclePolicy checks it (100 to 30,720 characters, ECR's rules). Preview runs the text in the editor over the repository's images as they are now, without saving or deleting anything."));
        body.Raw("<div class=\"actions\"><button type=\"submit\" name=\"intent\" value=\"save\">Save policy</button><button type=\"submit\" name=\"intent\" value=\"preview\" class=\"secondary\">Preview</button></div></form>");
        if (saved is not null)
        {
            body.Append(ConsoleForms.Button(user, action, "delete-policy", "Delete policy", "danger", "Delete this repository's lifecycle policy?"));
        }

        body.Raw("</section>");
        if (previewUnreadable is not null)
        {
            body.Raw("<section aria-labelledby=\"preview-heading\"><h2 id=\"preview-heading\">Preview</h2>").Append(ConsoleErrors.Banner(previewUnreadable)).Raw("</section>");
        }
        else if (preview is { } result)
        {
            Preview(body, context, key, result.Preview, result.Results, now);
        }

        Reference(body);
    }

    private static void Preview(Html body, HttpContext context, RepositoryKey key, LifecyclePreviewRecord preview, IReadOnlyList<LifecyclePreviewEntry> results, DateTimeOffset now)
    {
        var here = ConsoleRoutes.RepositorySettings(key, "lifecycle") + "&preview=1";
        body.Raw("<section aria-labelledby=\"preview-heading\"><h2 id=\"preview-heading\">Preview</h2>");
        body.Add($"<p>Started {ConsoleFormat.Time(preview.StartedAt, now)}; status <span class=\"badge\">{preview.Status}</span>.</p>");
        if (preview.Status == "IN_PROGRESS")
        {
            body.Add($"<p>The preview is still running. <a href=\"{here}\">Refresh</a> to see its results.</p></section>");
            return;
        }

        if (preview.Status != "COMPLETE")
        {
            body.Raw("<p class=\"alert error\" role=\"alert\">The preview failed. Check the policy and preview again.</p></section>");
            return;
        }

        if (results.Count == 0)
        {
            body.Raw("<p class=\"empty\">This policy would expire or archive no image now.</p></section>");
            return;
        }

        var expire = results.Count(r => r.Action == "EXPIRE");
        body.Add($"<p>{expire} image(s) would expire and {results.Count - expire} would move to the archive.</p>");
        var pageSize = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.WharfOptions>>().Value.Console.PageSize;
        var offset = Math.Min(SettingsPages.Offset(context), Math.Max(0, results.Count - 1));
        body.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption>Images the policy would act on</caption><thead><tr><th scope=\"col\">Image</th><th scope=\"col\">Tags</th><th scope=\"col\">Pushed</th><th scope=\"col\" class=\"num\">Rule</th><th scope=\"col\">Action</th></tr></thead><tbody>");
        foreach (var entry in results.Skip(offset).Take(pageSize))
        {
            var digest = Digest.TryParse(entry.Digest, out var parsed) ? ConsoleFormat.Digest(parsed) : new Html().Add($"<code>{entry.Digest}</code>");
            body.Add($"<tr><td data-label=\"Image\">{digest}</td><td data-label=\"Tags\">");
            if (entry.Tags.Count == 0)
            {
                body.Raw("<span class=\"muted\">untagged</span>");
            }
            else
            {
                body.Raw("<ul class=\"tags\">");
                foreach (var tag in entry.Tags)
                {
                    body.Add($"<li><code>{tag}</code></li>");
                }

                body.Raw("</ul>");
            }

            var what = entry.Action == "EXPIRE" ? "Expire" : "Archive";
            body.Add($"</td><td data-label=\"Pushed\">{ConsoleFormat.Time(entry.PushedAt, now)}</td><td data-label=\"Rule\" class=\"num\">{entry.RulePriority}</td><td data-label=\"Action\">{what}</td></tr>");
        }

        body.Raw("</tbody></table></div>");
        body.Append(ConsoleFormat.Pages(
            "Preview pages",
            offset > 0 ? ($"{here}&after={Math.Max(0, offset - pageSize)}", "Previous") : null,
            offset + pageSize < results.Count ? ($"{here}&after={offset + pageSize}", "Next") : null,
            backIsPrevious: true));

        body.Raw("</section>");
    }

    // A short reference of what a rule may say (ECR's lifecycle policy parameters, and Wharf's one extension).
    private static void Reference(Html body) => body.Raw("""
        <details class="panel"><summary>Rule fields</summary><dl class="facts">
        <dt><code>rulePriority</code></dt><dd>Required, a unique positive integer; lower runs first, and an image is decided by the first rule that selects it.</dd>
        <dt><code>description</code></dt><dd>Optional text.</dd>
        <dt><code>selection.tagStatus</code></dt><dd><code>tagged</code> (with <code>tagPrefixList</code> or <code>tagPatternList</code>), <code>untagged</code> or <code>any</code>.</dd>
        <dt><code>selection.tagPrefixList</code>, <code>tagPatternList</code></dt><dd>Tags starting with a prefix, or matching a pattern with <code>*</code> (at most 4 a pattern).</dd>
        <dt><code>selection.countType</code></dt><dd><code>imageCountMoreThan</code> (keep the newest <code>countNumber</code>), <code>sinceImagePushed</code>, <code>sinceImagePulled</code> or <code>sinceImageTransitioned</code> (older than <code>countNumber</code> days; <code>countUnit</code> is <code>days</code>).</dd>
        <dt><code>selection.storageClass</code></dt><dd><code>standard</code> (the default) or <code>archive</code>: which images the rule looks at.</dd>
        <dt><code>action.type</code></dt><dd><code>expire</code> (delete), or <code>transition</code> with <code>targetStorageClass</code> <code>archive</code>.</dd>
        </dl></details>
        """);
}
