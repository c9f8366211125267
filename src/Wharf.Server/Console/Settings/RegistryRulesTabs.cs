using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Replication;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>
/// A registry's replication configuration (its rules shown readably, edited as the JSON
/// <c>PutReplicationConfiguration</c> takes) and its pull-through cache rules (list, create, validate, delete).
/// </summary>
internal static class RegistryRulesTabs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly string[] RuleFields = ["prefix", "upstream-url", "upstream-registry", "credential-arn", "custom-role-arn", "upstream-prefix"];

    public static async Task<(string Location, string Notice)> PostAsync(HttpContext context, ConsoleUser user, RegistryKey registry, string tab, string action, CancellationToken cancellationToken)
    {
        var here = ConsoleRoutes.RegistrySettings(registry, tab);
        switch ((tab, action))
        {
            case ("replication", "replication"):
            {
                var configuration = EcrInput.Parse(ConsoleForms.Field(context, "configuration") ?? string.Empty, "replication configuration");
                var input = new JsonObject { ["replicationConfiguration"] = configuration };
                EcrInput.Check("PutReplicationConfiguration", input);
                using var document = EcrInput.Document(input);
                var stored = await context.RequestServices.GetRequiredService<ReplicationConfigurationService>().PutAsync(
                    user.Caller, registry, document.RootElement.GetProperty("replicationConfiguration"), cancellationToken);
                return (here, $"Replication configuration saved: {stored.Rules.Count} rule(s). Images pushed from now on replicate.");
            }

            case ("pull-through", "create-rule"):
            {
                var fields = RuleFields.ToDictionary(f => f, f => ConsoleForms.Field(context, f) is { Length: > 0 } value ? value.Trim() : null, StringComparer.Ordinal);
                var input = new JsonObject
                {
                    ["ecrRepositoryPrefix"] = fields["prefix"],
                    ["upstreamRegistryUrl"] = fields["upstream-url"],
                    ["upstreamRegistry"] = fields["upstream-registry"],
                    ["credentialArn"] = fields["credential-arn"],
                    ["customRoleArn"] = fields["custom-role-arn"],
                    ["upstreamRepositoryPrefix"] = fields["upstream-prefix"],
                };
                EcrInput.Check("CreatePullThroughCacheRule", input);
                var rule = await Rules(context).CreateAsync(
                    user.Caller,
                    registry,
                    new PullThroughCacheRuleInput(fields["prefix"]!, fields["upstream-url"]!, fields["upstream-registry"], fields["credential-arn"], fields["custom-role-arn"], fields["upstream-prefix"]),
                    cancellationToken);
                return (here, $"Pull-through cache rule {rule.Key} created: pulls of {rule.Key}/… fill from {rule.UpstreamRegistryUrl}.");
            }

            case ("pull-through", "delete-rule"):
            {
                var prefix = ConsoleForms.Field(context, "prefix") ?? string.Empty;
                EcrInput.Check("DeletePullThroughCacheRule", new JsonObject { ["ecrRepositoryPrefix"] = prefix });
                var rule = await Rules(context).DeleteAsync(user.Caller, registry, prefix, cancellationToken);
                return (here, $"Pull-through cache rule {rule.Key} deleted. The repositories it filled stay.");
            }

            case ("pull-through", "validate-rule"):
            {
                var prefix = ConsoleForms.Field(context, "prefix") ?? string.Empty;
                EcrInput.Check("ValidatePullThroughCacheRule", new JsonObject { ["ecrRepositoryPrefix"] = prefix });
                var validation = await Rules(context).ValidateAsync(user.Caller, registry, prefix, cancellationToken);
                return (here, validation.IsValid ? $"Rule {validation.Rule.Key} is valid: the upstream answered." : $"Rule {validation.Rule.Key} does not work: {validation.Failure}");
            }

            default:
                throw RepositorySettingsPage.UnknownAction();
        }
    }

    public static async Task ReplicationAsync(Html body, HttpContext context, ConsoleUser user, RegistryKey registry, string? posted, CancellationToken cancellationToken)
    {
        var configuration = await context.RequestServices.GetRequiredService<ReplicationConfigurationService>().DescribeAsync(user.Caller, registry, cancellationToken);
        body.Raw("<section aria-labelledby=\"replication-heading\"><h2 id=\"replication-heading\">Replication rules</h2>");
        if (configuration.Rules.Count == 0)
        {
            body.Raw("<p class=\"empty\">No replication: images stay in this registry.</p>");
        }
        else
        {
            body.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Replication rules</caption><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Destinations</th><th scope=\"col\">Repositories</th><th scope=\"col\">Tags</th></tr></thead><tbody>");
            var index = 0;
            foreach (var rule in configuration.Rules)
            {
                index++;
                body.Add($"<tr><td data-label=\"Rule\" class=\"num\">{index}</td><td data-label=\"Destinations\"><ul class=\"tags\">");
                foreach (var destination in rule.Destinations)
                {
                    body.Add($"<li>{destination.RegistryId} · {destination.Region}</li>");
                }

                body.Raw("</ul></td><td data-label=\"Repositories\">");
                List(body, rule.RepositoryFilters.Select(f => f.Filter + "…").ToList(), "every repository");
                body.Raw("</td><td data-label=\"Tags\">");
                List(body, rule.TagFilters ?? [], "every image");
                body.Raw("</td></tr>");
            }

            body.Raw("</tbody></table></div>");
        }

        var text = SettingsPages.Typed(context, posted, "replication", "configuration")
            ?? ReplicationConfigurationParser.ToWire(configuration).ToJsonString(Indented);
        body.Append(ConsoleForms.Open(user, ConsoleRoutes.RegistrySettings(registry, "replication"), "replication"));
        body.Append(SettingsPages.Editor(
            "replication-configuration",
            "configuration",
            "Replication configuration (JSON)",
            text,
            "As PutReplicationConfiguration's replicationConfiguration: {\"rules\": [{\"destinations\": [{\"region\": …, \"registryId\": …}], \"repositoryFilters\": [{\"filter\": \"prod/\", \"filterType\": \"PREFIX_MATCH\"}], \"wharfTagFilters\": [\"release-*\"]}]} — up to 10 rules; no rules turns replication off.",
            14));
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save replication configuration</button></div></form></section>");
    }

    public static async Task PullThroughAsync(Html body, HttpContext context, ConsoleUser user, RegistryKey registry, string? posted, CancellationToken cancellationToken)
    {
        var pageSize = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.WharfOptions>>().Value.Console.PageSize;
        var after = context.Request.Query["after"].ToString() is { Length: > 0 } cursor ? cursor : null;
        var page = await Rules(context).DescribeAsync(user.Caller, registry, [], after, pageSize + 1, cancellationToken);
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var action = ConsoleRoutes.RegistrySettings(registry, "pull-through");
        body.Raw("<section aria-labelledby=\"rules-heading\"><h2 id=\"rules-heading\">Pull-through cache rules</h2>");
        if (page.Count == 0)
        {
            body.Raw(after is null ? "<p class=\"empty\">No pull-through cache rules.</p>" : "<p class=\"empty\">No more rules.</p>");
        }
        else
        {
            body.Raw("<div class=\"table-wrap\"><table class=\"list cards\"><caption class=\"sr-only\">Pull-through cache rules</caption><thead><tr><th scope=\"col\">Prefix</th><th scope=\"col\">Upstream</th><th scope=\"col\">Credentials</th><th scope=\"col\">Created</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
            foreach (var rule in page.Take(pageSize))
            {
                body.Add($"<tr><td data-label=\"Prefix\"><code>{rule.Key}</code></td><td data-label=\"Upstream\">{rule.UpstreamRegistryUrl}");
                if (rule.UpstreamRegistry is { } upstream)
                {
                    body.Add($" <span class=\"badge\">{upstream}</span>");
                }

                if (rule.UpstreamRepositoryPrefix != PullThroughCacheRule.Root)
                {
                    body.Add($"<br><span class=\"muted\">under <code>{rule.UpstreamRepositoryPrefix}</code></span>");
                }

                var credentials = rule.CredentialArn ?? rule.CustomRoleArn;
                body.Add($"</td><td data-label=\"Credentials\">{(credentials is null ? new Html().Raw("<span class=\"muted\">anonymous</span>") : new Html().Add($"<code>{credentials}</code>"))}</td><td data-label=\"Created\">{ConsoleFormat.Time(rule.CreatedAt, now)}</td><td data-label=\"Actions\">");
                RuleButton(body, user, action, "validate-rule", rule.Key, "Validate", "secondary", null);
                RuleButton(body, user, action, "delete-rule", rule.Key, "Delete", "danger", $"Delete the pull-through cache rule {rule.Key}? Repositories it filled stay.");
                body.Raw("</td></tr>");
            }

            body.Raw("</tbody></table></div>");
            if (page.Count > pageSize)
            {
                body.Append(ConsoleFormat.Pages("Rule pages", null, ($"{action}&after={Uri.EscapeDataString(page[pageSize - 1].Key)}", "Next")));
            }
        }

        string Typed(string field) => SettingsPages.Typed(context, posted, "create-rule", field) ?? string.Empty;
        body.Raw("<h3>Create a rule</h3>");
        body.Append(ConsoleForms.Open(user, action, "create-rule"));
        body.Add($"<label for=\"rule-prefix\">Repository prefix</label><input type=\"text\" id=\"rule-prefix\" name=\"prefix\" required autocomplete=\"off\" aria-describedby=\"rule-prefix-hint\" value=\"{Typed("prefix")}\"><p class=\"hint\" id=\"rule-prefix-hint\">Pulls of <code>&lt;prefix&gt;/&lt;name&gt;</code> fill from the upstream (<code>ROOT</code>: every repository).</p>");
        body.Add($"<label for=\"rule-upstream-url\">Upstream registry URL</label><input type=\"text\" id=\"rule-upstream-url\" name=\"upstream-url\" required autocomplete=\"off\" aria-describedby=\"rule-url-hint\" value=\"{Typed("upstream-url")}\"><p class=\"hint\" id=\"rule-url-hint\">A host such as <code>registry-1.docker.io</code>, or the https URL of any OCI registry.</p>");
        body.Raw("<label for=\"rule-upstream-registry\">Upstream registry</label><select id=\"rule-upstream-registry\" name=\"upstream-registry\">");
        RepositorySettingsPage.Option(body, string.Empty, "From the URL (or another OCI registry)", Typed("upstream-registry").Length == 0);
        foreach (var value in EcrInput.Values("UpstreamRegistry"))
        {
            RepositorySettingsPage.Option(body, value, value, value == Typed("upstream-registry"));
        }

        body.Raw("</select>");
        body.Add($"<label for=\"rule-credential-arn\">Credential ARN (optional)</label><input type=\"text\" id=\"rule-credential-arn\" name=\"credential-arn\" autocomplete=\"off\" aria-describedby=\"rule-credential-hint\" value=\"{Typed("credential-arn")}\"><p class=\"hint\" id=\"rule-credential-hint\">A Secrets Manager secret of this registry's account and region, <code>ecr-pullthroughcache/…</code>, holding <code>username</code> and <code>accessToken</code>.</p>");
        body.Add($"<label for=\"rule-custom-role-arn\">Role ARN (ecr upstreams)</label><input type=\"text\" id=\"rule-custom-role-arn\" name=\"custom-role-arn\" autocomplete=\"off\" value=\"{Typed("custom-role-arn")}\">");
        body.Add($"<label for=\"rule-upstream-prefix\">Upstream repository prefix (optional)</label><input type=\"text\" id=\"rule-upstream-prefix\" name=\"upstream-prefix\" autocomplete=\"off\" value=\"{Typed("upstream-prefix")}\">");
        body.Raw("<div class=\"actions\"><button type=\"submit\">Create rule</button></div></form></section>");
    }

    private static PullThroughCacheRuleService Rules(HttpContext context) => context.RequestServices.GetRequiredService<PullThroughCacheRuleService>();

    private static void RuleButton(Html body, ConsoleUser user, string action, string doValue, string prefix, string label, string buttonClass, string? confirm)
    {
        body.Append(ConsoleForms.Open(user, action, doValue, "inline", confirm));
        body.Add($"<input type=\"hidden\" name=\"prefix\" value=\"{prefix}\"><button type=\"submit\" class=\"{buttonClass}\" aria-label=\"{label} rule {prefix}\">{label}</button></form> ");
    }

    private static void List(Html body, IReadOnlyList<string> items, string none)
    {
        if (items.Count == 0)
        {
            body.Add($"<span class=\"muted\">{none}</span>");
            return;
        }

        body.Raw("<ul class=\"tags\">");
        foreach (var item in items)
        {
            body.Add($"<li><code>{item}</code></li>");
        }

        body.Raw("</ul>");
    }
}
