using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.ControlPlane;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>
/// <c>/console/{account}/{region}/settings/{name}?tab=…</c>: a repository's settings, one tab a page —
/// <c>general</c> (tag mutability with exclusions, scan on push, encryption shown), <c>lifecycle</c>
/// (<see cref="LifecycleTab"/>), <c>permissions</c> (the repository policy) and <c>tags</c> (resource tags).
/// Each form posts to its tab with a <c>do</c>; a refusal re-renders the tab with the service's message above
/// it and what was typed kept; a success redirects back with a notice.
/// </summary>
internal static class RepositorySettingsPage
{
    private static readonly (string Tab, string Label)[] Tabs =
    [
        ("general", "General"),
        ("lifecycle", "Lifecycle policy"),
        ("permissions", "Permissions"),
        ("tags", "Tags"),
    ];

    private static readonly (string Value, string Label)[] Mutabilities =
    [
        ("MUTABLE", "Mutable: a push may move any tag"),
        ("IMMUTABLE", "Immutable: no tag moves once pushed"),
        ("IMMUTABLE_WITH_EXCLUSION", "Immutable, except tags matching the exclusion filters"),
        ("MUTABLE_WITH_EXCLUSION", "Mutable, except tags matching the exclusion filters (those are immutable)"),
    ];

    private const string PolicyExample = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AllowPull",
              "Effect": "Allow",
              "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
              "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
            }
          ]
        }
        """;

    public static async Task HandleAsync(HttpContext context, string account, string region, string name)
    {
        var user = ConsoleRequest.User(context);
        var cancellationToken = context.RequestAborted;
        if (SettingsPages.Registry(account, region) is not { } registry || !RepositoryName.TryParse(name, out var repositoryName))
        {
            await SettingsPages.NotFoundAsync(context, "The address does not name a repository (account, region or repository name).");
            return;
        }

        var key = new RepositoryKey(registry, repositoryName);
        var tab = context.Request.Query["tab"].ToString() is { Length: > 0 } asked ? asked : "general";
        if (!Tabs.Any(t => t.Tab == tab))
        {
            await SettingsPages.NotFoundAsync(context, "A repository's settings have the tabs general, lifecycle, permissions and tags.");
            return;
        }

        var repositories = context.RequestServices.GetRequiredService<RepositoryService>();
        string? posted = null;
        WharfException? error = null;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            posted = ConsoleForms.Field(context, ConsoleForms.ActionField) ?? string.Empty;
            try
            {
                var (location, notice) = tab switch
                {
                    "lifecycle" => await LifecycleTab.PostAsync(context, user, key, posted, cancellationToken),
                    _ => await PostAsync(context, repositories, user, key, tab, posted, cancellationToken),
                };
                await ConsoleLayout.RedirectAsync(context, location, notice);
                return;
            }
            catch (WharfException e)
            {
                error = e;
            }
        }

        // The page's subject as DescribeRepositories shows it: a repository the caller may not see, or that
        // does not exist, is the filter's page (403 / 404) with the reason.
        var repository = (await repositories.DescribeAsync(user.Caller, registry, [repositoryName], cancellationToken))[0];
        var body = new Html();
        body.Add($"<div class=\"page-head\"><h1>Settings of <code>{key.Name.Value}</code></h1><div class=\"actions\"><a class=\"button secondary\" href=\"{ConsoleRoutes.Repository(key)}\">Back to images</a></div></div>");
        body.Append(SettingsPages.Tabs("Repository settings", tab, Tabs.Select(t => (t.Tab, t.Label, ConsoleRoutes.RepositorySettings(key, t.Tab)))));
        if (error is not null)
        {
            body.Append(ConsoleErrors.Banner(error));
        }

        switch (tab)
        {
            case "general":
                General(body, context, user, repository, posted);
                break;
            case "lifecycle":
                await LifecycleTab.WriteAsync(body, context, user, key, posted, cancellationToken);
                break;
            case "permissions":
                await PermissionsAsync(body, context, repositories, user, key, posted, cancellationToken);
                break;
            default:
                await ResourceTagsAsync(body, context, repositories, user, key, posted, cancellationToken);
                break;
        }

        var title = Tabs.First(t => t.Tab == tab).Label + " · " + key.Name.Value;
        await context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(context, user, new ConsolePage(title, body)
        {
            Status = error is null ? StatusCodes.Status200OK : SettingsPages.Status(error),
            Section = ConsoleSection.Repositories,
            Registry = registry,
            Breadcrumbs = [("Repositories", ConsoleRoutes.Repositories(registry)), (key.Name.Value, ConsoleRoutes.Repository(key)), ("Settings", null)],
        });
    }

    private static async Task<(string Location, string Notice)> PostAsync(
        HttpContext context, RepositoryService repositories, ConsoleUser user, RepositoryKey key, string tab, string action, CancellationToken cancellationToken)
    {
        var here = ConsoleRoutes.RepositorySettings(key, tab);
        var input = new JsonObject { ["registryId"] = key.Registry.Account.Value, ["repositoryName"] = key.Name.Value };
        switch ((tab, action))
        {
            case ("general", "mutability"):
            {
                var mode = ConsoleForms.Field(context, "mutability") ?? string.Empty;
                var filters = SettingsPages.Lines(ConsoleForms.Field(context, "exclusions"));
                input["imageTagMutability"] = mode;
                if (filters.Count > 0)
                {
                    input["imageTagMutabilityExclusionFilters"] = new JsonArray([.. filters.Select(f => (JsonNode)new JsonObject { ["filterType"] = "WILDCARD", ["filter"] = f })]);
                }

                // The API's reading of the same request: the model's checks, then ECR's rule for exclusions.
                EcrInput.Check("PutImageTagMutability", input);
                using var request = EcrInput.Document(input);
                var (mutability, exclusions) = RepositoryRequests.ReadMutability(request.RootElement, null);
                await repositories.PutTagMutabilityAsync(user.Caller, key, mutability, exclusions, cancellationToken);
                return (here, $"Tag mutability is now {mode}.");
            }

            case ("general", "scanning"):
            {
                var scanOnPush = ConsoleForms.Field(context, "scan-on-push") == "true";
                input["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = scanOnPush };
                EcrInput.Check("PutImageScanningConfiguration", input);
                await repositories.PutScanOnPushAsync(user.Caller, key, scanOnPush, cancellationToken);
                return (here, scanOnPush ? "Images are scanned on push." : "Images are no longer scanned on push (unless the registry's scanning configuration says so).");
            }

            case ("permissions", "save-policy"):
            {
                var text = ConsoleForms.Field(context, "policy") ?? string.Empty;
                input["policyText"] = text;
                EcrInput.Check("SetRepositoryPolicy", input);
                await repositories.SetPolicyAsync(user.Caller, key, text, cancellationToken);
                return (here, "Repository policy saved.");
            }

            case ("permissions", "delete-policy"):
                EcrInput.Check("DeleteRepositoryPolicy", input);
                await repositories.DeletePolicyAsync(user.Caller, key, cancellationToken);
                return (here, "Repository policy deleted.");

            case ("tags", "tag"):
            {
                var tag = new ResourceTag(ConsoleForms.Field(context, "key") ?? string.Empty, ConsoleForms.Field(context, "value") ?? string.Empty);
                EcrInput.Check("TagResource", new JsonObject
                {
                    ["resourceArn"] = key.Arn,
                    ["tags"] = new JsonArray(new JsonObject { ["Key"] = tag.Key, ["Value"] = tag.Value }),
                });
                await repositories.TagResourceAsync(user.Caller, key, [tag], cancellationToken);
                return (here, $"Tag {tag.Key} set.");
            }

            case ("tags", "untag"):
            {
                var tagKey = ConsoleForms.Field(context, "key") ?? string.Empty;
                EcrInput.Check("UntagResource", new JsonObject { ["resourceArn"] = key.Arn, ["tagKeys"] = new JsonArray(tagKey) });
                await repositories.UntagResourceAsync(user.Caller, key, [tagKey], cancellationToken);
                return (here, $"Tag {tagKey} removed.");
            }

            default:
                throw UnknownAction();
        }
    }

    /// <summary>A post whose <c>do</c> is not one of the tab's forms.</summary>
    public static WharfException UnknownAction() =>
        new(WharfErrorCode.InvalidParameter, "The form asked for something this page does not do. Reload the page and use its forms.");

    private static void General(Html body, HttpContext context, ConsoleUser user, Repository repository, string? posted)
    {
        var key = repository.Key;
        var settings = repository.Settings;
        var action = ConsoleRoutes.RepositorySettings(key, "general");
        var mode = SettingsPages.Typed(context, posted, "mutability", "mutability") ?? TagMutabilityNames.ToName(settings.Mutability);
        var exclusions = SettingsPages.Typed(context, posted, "mutability", "exclusions") ?? string.Join('\n', settings.MutabilityExclusions);

        body.Raw("<section aria-labelledby=\"mutability-heading\"><h2 id=\"mutability-heading\">Tag mutability</h2>");
        body.Append(ConsoleForms.Open(user, action, "mutability"));
        body.Raw("<label for=\"mutability\">Image tag mutability</label><select id=\"mutability\" name=\"mutability\">");
        foreach (var (value, label) in Mutabilities)
        {
            Option(body, value, label, value == mode);
        }

        body.Raw("</select>");
        body.Add($"<label for=\"exclusions\">Exclusion filters</label><textarea id=\"exclusions\" name=\"exclusions\" rows=\"4\" class=\"code\" spellcheck=\"false\" autocomplete=\"off\" aria-describedby=\"exclusions-hint\">\n{exclusions}</textarea>");
        body.Raw("<p class=\"hint\" id=\"exclusions-hint\">One filter a line, up to 5, for the two <em>with exclusion</em> modes only: letters, digits, <code>. _ -</code> and <code>*</code> (any run of characters), e.g. <code>latest</code> or <code>dev-*</code>.</p>");
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save tag mutability</button></div></form></section>");

        var scanOnPush = posted == "scanning" ? ConsoleForms.Field(context, "scan-on-push") == "true" : settings.ScanOnPush;
        body.Raw("<section aria-labelledby=\"scanning-heading\"><h2 id=\"scanning-heading\">Scanning</h2>");
        body.Append(ConsoleForms.Open(user, action, "scanning"));
        body.Raw("<label class=\"check\"><input type=\"checkbox\" id=\"scan-on-push\" name=\"scan-on-push\" value=\"true\" aria-describedby=\"scan-hint\"");
        body.Raw(scanOnPush ? " checked>" : ">");
        body.Raw(" Scan images on push</label>");
        body.Add($"<p class=\"hint\" id=\"scan-hint\">The repository's own flag (ECR's deprecated <code>scanOnPush</code>). The <a href=\"{ConsoleRoutes.RegistrySettings(key.Registry, "scanning")}\">registry's scanning configuration</a> can scan it too, and decides alone with enhanced scanning.</p>");
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save scanning</button></div></form></section>");

        body.Raw("<section aria-labelledby=\"encryption-heading\"><h2 id=\"encryption-heading\">Encryption</h2><dl class=\"facts\">");
        body.Add($"<dt>Encryption type</dt><dd><code>{settings.EncryptionType}</code></dd>");
        if (settings.KmsKey is { } kmsKey)
        {
            body.Add($"<dt>KMS key</dt><dd><code>{kmsKey}</code></dd>");
        }

        body.Raw("</dl><p class=\"hint\">Set when the repository was created; as in ECR, it cannot change.</p></section>");
    }

    private static async Task PermissionsAsync(Html body, HttpContext context, RepositoryService repositories, ConsoleUser user, RepositoryKey key, string? posted, CancellationToken cancellationToken)
    {
        string? current = null;
        WharfException? unreadable = null;
        try
        {
            current = (await repositories.GetPolicyAsync(user.Caller, key, cancellationToken)).Policy;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.RepositoryPolicyNotFound)
        {
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.Denied)
        {
            unreadable = e;
        }

        var action = ConsoleRoutes.RepositorySettings(key, "permissions");
        body.Raw("<section aria-labelledby=\"policy-heading\"><h2 id=\"policy-heading\">Repository policy</h2>");
        if (unreadable is not null)
        {
            body.Raw("<p>The current policy cannot be shown to you:</p>").Append(ConsoleErrors.Banner(unreadable));
        }
        else if (current is null)
        {
            body.Raw("<p class=\"muted\">This repository has no policy: only identity policies (and the registry policy) decide who may use it. The editor holds an example.</p>");
        }

        var text = SettingsPages.Typed(context, posted, "save-policy", "policy") ?? current ?? PolicyExample.Replace("123456789012", key.Registry.Account.Value, StringComparison.Ordinal);
        body.Append(ConsoleForms.Open(user, action, "save-policy"));
        body.Append(SettingsPages.Editor(
            "policy",
            "policy",
            "Policy (JSON)",
            text,
            "An IAM resource policy: Version, and Statements with Effect, Principal, Action (ecr:…) and optionally Condition. It is checked as SetRepositoryPolicy checks it, up to 10,240 characters."));
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save policy</button></div></form>");
        if (current is not null)
        {
            body.Append(ConsoleForms.Button(user, action, "delete-policy", "Delete policy", "danger", "Delete this repository's policy?"));
        }

        body.Raw("</section>");
    }

    private static async Task ResourceTagsAsync(Html body, HttpContext context, RepositoryService repositories, ConsoleUser user, RepositoryKey key, string? posted, CancellationToken cancellationToken)
    {
        var tags = await repositories.ListResourceTagsAsync(user.Caller, key, cancellationToken);
        var action = ConsoleRoutes.RepositorySettings(key, "tags");
        body.Raw("<section aria-labelledby=\"tags-heading\"><h2 id=\"tags-heading\">Resource tags</h2>");
        body.Add($"<p class=\"hint\">{tags.Count} of {RepositoryService.MaxResourceTags} tags. Keys have 1–128 characters and may not start with <code>aws:</code>; values up to 256. IAM conditions can use them (<code>ecr:ResourceTag/&lt;key&gt;</code>).</p>");
        if (tags.Count == 0)
        {
            body.Raw("<p class=\"empty\">This repository has no resource tags.</p>");
        }
        else
        {
            body.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Resource tags</caption><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Value</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var tag in tags)
            {
                body.Add($"<tr><td data-label=\"Key\"><code>{tag.Key}</code></td><td data-label=\"Value\">{tag.Value}</td><td data-label=\"Actions\">");
                body.Append(ConsoleForms.Open(user, action, "untag", "inline", $"Remove the tag {tag.Key}?"));
                body.Add($"<input type=\"hidden\" name=\"key\" value=\"{tag.Key}\"><button type=\"submit\" class=\"danger\" aria-label=\"Remove tag {tag.Key}\">Remove</button></form></td></tr>");
            }

            body.Raw("</tbody></table></div>");
        }

        body.Raw("<h3>Add or change a tag</h3>");
        body.Append(ConsoleForms.Open(user, action, "tag"));
        body.Add($"<label for=\"tag-key\">Key</label><input type=\"text\" id=\"tag-key\" name=\"key\" required maxlength=\"128\" autocomplete=\"off\" value=\"{SettingsPages.Typed(context, posted, "tag", "key") ?? string.Empty}\">");
        body.Add($"<label for=\"tag-value\">Value</label><input type=\"text\" id=\"tag-value\" name=\"value\" maxlength=\"256\" autocomplete=\"off\" value=\"{SettingsPages.Typed(context, posted, "tag", "value") ?? string.Empty}\">");
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save tag</button></div></form></section>");
    }

    /// <summary>An <c>&lt;option&gt;</c>, selected or not.</summary>
    public static void Option(Html html, string value, string label, bool selected)
    {
        if (selected)
        {
            html.Add($"<option value=\"{value}\" selected>{label}</option>");
        }
        else
        {
            html.Add($"<option value=\"{value}\">{label}</option>");
        }
    }
}
