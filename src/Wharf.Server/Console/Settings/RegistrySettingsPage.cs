using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Scanning;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>
/// <c>/console/{account}/{region}/registry-settings?tab=…</c>: a registry's settings — <c>scanning</c> (the
/// registry scanning configuration), <c>policy</c> (the registry policy), <c>replication</c> and
/// <c>pull-through</c> (<see cref="RegistryRulesTabs"/>), <c>account</c> (ECR's account settings). Forms post to
/// their tab; a refusal re-renders it with the service's message and what was typed.
/// </summary>
internal static class RegistrySettingsPage
{
    private static readonly (string Tab, string Label)[] Tabs =
    [
        ("scanning", "Scanning"),
        ("policy", "Registry policy"),
        ("replication", "Replication"),
        ("pull-through", "Pull-through cache"),
        ("account", "Account settings"),
    ];

    /// <summary>ECR's limit on scanning rules (the model's).</summary>
    private const int ScanningRules = 2;

    private const string PolicyExample = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AllowReplicationFrom",
              "Effect": "Allow",
              "Principal": { "AWS": "arn:aws:iam::210987654321:root" },
              "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
              "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*"
            }
          ]
        }
        """;

    public static async Task HandleAsync(HttpContext context, string account, string region)
    {
        var user = ConsoleRequest.User(context);
        var cancellationToken = context.RequestAborted;
        if (SettingsPages.Registry(account, region) is not { } registry)
        {
            await SettingsPages.NotFoundAsync(context, "The address does not name a registry (a 12-digit account and a region).");
            return;
        }

        var tab = context.Request.Query["tab"].ToString() is { Length: > 0 } asked ? asked : "scanning";
        if (!Tabs.Any(t => t.Tab == tab))
        {
            await SettingsPages.NotFoundAsync(context, "A registry's settings have the tabs scanning, policy, replication, pull-through and account.");
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
                var (location, notice) = tab is "replication" or "pull-through"
                    ? await RegistryRulesTabs.PostAsync(context, user, registry, tab, posted, cancellationToken)
                    : await PostAsync(context, repositories, user, registry, tab, posted, cancellationToken);
                await ConsoleLayout.RedirectAsync(context, location, notice);
                return;
            }
            catch (WharfException e)
            {
                error = e;
            }
        }

        var body = new Html();
        body.Add($"<div class=\"page-head\"><h1>Registry settings</h1><p class=\"muted\">Account {registry.Account.Value}, region {registry.Region}</p></div>");
        body.Append(SettingsPages.Tabs("Registry settings", tab, Tabs.Select(t => (t.Tab, t.Label, ConsoleRoutes.RegistrySettings(registry, t.Tab)))));
        if (error is not null)
        {
            body.Append(ConsoleErrors.Banner(error));
        }

        // A tab the caller may not read shows AWS's reason under the tabs (the other tabs stay a click away).
        var content = new Html();
        try
        {
            switch (tab)
            {
                case "scanning":
                    await ScanningAsync(content, context, repositories, user, registry, posted, cancellationToken);
                    break;
                case "policy":
                    await PolicyAsync(content, context, repositories, user, registry, posted, cancellationToken);
                    break;
                case "replication":
                    await RegistryRulesTabs.ReplicationAsync(content, context, user, registry, posted, cancellationToken);
                    break;
                case "pull-through":
                    await RegistryRulesTabs.PullThroughAsync(content, context, user, registry, posted, cancellationToken);
                    break;
                default:
                    await AccountAsync(content, context, repositories, user, registry, posted, cancellationToken);
                    break;
            }

            body.Append(content);
        }
        catch (WharfException e) when (error is null)
        {
            error = e;
            body.Append(ConsoleErrors.Banner(e));
        }

        await context.RequestServices.GetRequiredService<ConsoleLayout>().WriteAsync(context, user, new ConsolePage(Tabs.First(t => t.Tab == tab).Label + " · Registry settings", body)
        {
            Status = error is null ? StatusCodes.Status200OK : SettingsPages.Status(error),
            Section = ConsoleSection.RegistrySettings,
            Registry = registry,
            Breadcrumbs = [("Registry settings", null)],
        });
    }

    private static async Task<(string Location, string Notice)> PostAsync(
        HttpContext context, RepositoryService repositories, ConsoleUser user, RegistryKey registry, string tab, string action, CancellationToken cancellationToken)
    {
        var here = ConsoleRoutes.RegistrySettings(registry, tab);
        switch ((tab, action))
        {
            case ("scanning", "scanning"):
            {
                var scanType = ConsoleForms.Field(context, "scan-type") ?? string.Empty;
                var rules = new List<ScanningRule>();
                for (var i = 1; i <= ScanningRules; i++)
                {
                    if (ConsoleForms.Field(context, $"rule-{i}-frequency") is { Length: > 0 } frequency)
                    {
                        rules.Add(new ScanningRule(frequency, SettingsPages.Lines(ConsoleForms.Field(context, $"rule-{i}-filters")).Select(f => new ScanningFilter(f)).ToList()));
                    }
                }

                EcrInput.Check("PutRegistryScanningConfiguration", new JsonObject
                {
                    ["scanType"] = scanType,
                    ["rules"] = new JsonArray([.. rules.Select(r => (JsonNode)new JsonObject
                    {
                        ["scanFrequency"] = r.ScanFrequency,
                        ["repositoryFilters"] = new JsonArray([.. r.RepositoryFilters.Select(f => (JsonNode)new JsonObject { ["filter"] = f.Filter, ["filterType"] = f.FilterType })]),
                    })]),
                });
                await repositories.PutScanningConfigurationAsync(user.Caller, registry, new ScanningConfiguration(scanType, rules), cancellationToken);
                return (here, $"Scanning configuration saved: {scanType} scanning with {rules.Count} rule(s).");
            }

            case ("policy", "save-policy"):
            {
                var text = ConsoleForms.Field(context, "policy") ?? string.Empty;
                EcrInput.Check("PutRegistryPolicy", new JsonObject { ["policyText"] = text });
                await repositories.PutRegistryPolicyAsync(user.Caller, registry, text, cancellationToken);
                return (here, "Registry policy saved.");
            }

            case ("policy", "delete-policy"):
                await repositories.DeleteRegistryPolicyAsync(user.Caller, registry, cancellationToken);
                return (here, "Registry policy deleted.");

            case ("account", "setting"):
            {
                var name = ConsoleForms.Field(context, "name") ?? string.Empty;
                var value = ConsoleForms.Field(context, "value") ?? string.Empty;
                EcrInput.Check("PutAccountSetting", new JsonObject { ["name"] = name, ["value"] = value });
                await repositories.PutAccountSettingAsync(user.Caller, registry, name, value, cancellationToken);
                return (here, $"{name} is now {value}.");
            }

            default:
                throw RepositorySettingsPage.UnknownAction();
        }
    }

    private static async Task ScanningAsync(Html body, HttpContext context, RepositoryService repositories, ConsoleUser user, RegistryKey registry, string? posted, CancellationToken cancellationToken)
    {
        var current = await repositories.GetScanningConfigurationAsync(user.Caller, registry, cancellationToken);
        var typed = posted == "scanning";
        var scanType = typed ? ConsoleForms.Field(context, "scan-type") ?? string.Empty : current.ScanType;
        body.Raw("<section aria-labelledby=\"scanning-heading\"><h2 id=\"scanning-heading\">Scanning configuration</h2>");
        body.Raw("<p class=\"hint\">Basic scanning scans on push the repositories a rule's filters match (or whose own scan-on-push flag is set); enhanced scanning also rescans continuously. A filter with <code>*</code> is a wildcard; one without matches names containing it.</p>");
        body.Append(ConsoleForms.Open(user, ConsoleRoutes.RegistrySettings(registry, "scanning"), "scanning"));
        body.Raw("<label for=\"scan-type\">Scan type</label><select id=\"scan-type\" name=\"scan-type\">");
        foreach (var value in EcrInput.Values("ScanType"))
        {
            RepositorySettingsPage.Option(body, value, value, value == scanType);
        }

        body.Raw("</select>");
        for (var i = 1; i <= ScanningRules; i++)
        {
            var rule = i <= current.Rules.Count ? current.Rules[i - 1] : null;
            var frequency = typed ? ConsoleForms.Field(context, $"rule-{i}-frequency") ?? string.Empty : rule?.ScanFrequency ?? string.Empty;
            var filters = typed ? ConsoleForms.Field(context, $"rule-{i}-filters") ?? string.Empty : string.Join('\n', rule?.RepositoryFilters.Select(f => f.Filter) ?? []);
            body.Add($"<fieldset><legend>Rule {i}</legend><label for=\"rule-{i}-frequency\">Scan frequency</label><select id=\"rule-{i}-frequency\" name=\"rule-{i}-frequency\">");
            RepositorySettingsPage.Option(body, string.Empty, "No rule", frequency.Length == 0);
            foreach (var value in EcrInput.Values("ScanFrequency"))
            {
                RepositorySettingsPage.Option(body, value, value, value == frequency);
            }

            body.Add($"</select><label for=\"rule-{i}-filters\">Repository filters</label><textarea id=\"rule-{i}-filters\" name=\"rule-{i}-filters\" rows=\"3\" class=\"code\" spellcheck=\"false\" autocomplete=\"off\" aria-describedby=\"filters-hint\">\n{filters}</textarea></fieldset>");
        }

        body.Raw("<p class=\"hint\" id=\"filters-hint\">One filter a line, up to 100 a rule: lowercase letters, digits, <code>. _ - /</code> and <code>*</code>, e.g. <code>*</code> for every repository or <code>prod/*</code>.</p>");
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save scanning configuration</button></div></form></section>");
    }

    private static async Task PolicyAsync(Html body, HttpContext context, RepositoryService repositories, ConsoleUser user, RegistryKey registry, string? posted, CancellationToken cancellationToken)
    {
        string? current = null;
        try
        {
            current = await repositories.GetRegistryPolicyAsync(user.Caller, registry, cancellationToken);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.RegistryPolicyNotFound)
        {
        }

        var action = ConsoleRoutes.RegistrySettings(registry, "policy");
        body.Raw("<section aria-labelledby=\"policy-heading\"><h2 id=\"policy-heading\">Registry policy</h2>");
        body.Raw(current is null
            ? "<p class=\"muted\">This registry has no policy. The editor holds an example (letting another account replicate into this registry).</p>"
            : "<p>The registry policy applies to every repository of the registry, beside identity and repository policies.</p>");
        body.Append(ConsoleForms.Open(user, action, "save-policy"));
        body.Append(SettingsPages.Editor(
            "registry-policy",
            "policy",
            "Registry policy (JSON)",
            SettingsPages.Typed(context, posted, "save-policy", "policy") ?? current ?? PolicyExample.Replace("123456789012", registry.Account.Value, StringComparison.Ordinal).Replace("us-east-1", registry.Region, StringComparison.Ordinal),
            "An IAM resource policy, checked as PutRegistryPolicy checks it (up to 10,240 characters)."));
        body.Raw("<div class=\"actions\"><button type=\"submit\">Save policy</button></div></form>");
        if (current is not null)
        {
            body.Append(ConsoleForms.Button(user, action, "delete-policy", "Delete policy", "danger", "Delete the registry policy?"));
        }

        body.Raw("</section>");
    }

    private static async Task AccountAsync(Html body, HttpContext context, RepositoryService repositories, ConsoleUser user, RegistryKey registry, string? posted, CancellationToken cancellationToken)
    {
        var action = ConsoleRoutes.RegistrySettings(registry, "account");
        body.Raw("<section aria-labelledby=\"account-heading\"><h2 id=\"account-heading\">Account settings</h2>");
        body.Raw("<p class=\"hint\">ECR's account settings, for this account in this region (<code>PutAccountSetting</code>).</p>");
        foreach (var name in AccountSettings.Names.Order(StringComparer.Ordinal))
        {
            var value = await repositories.GetAccountSettingAsync(user.Caller, registry, name, cancellationToken);
            if (posted == "setting" && ConsoleForms.Field(context, "name") == name)
            {
                value = ConsoleForms.Field(context, "value") ?? value;
            }

            var id = "setting-" + name.ToLowerInvariant().Replace('_', '-');
            body.Append(ConsoleForms.Open(user, action, "setting", "inline"));
            body.Add($"<input type=\"hidden\" name=\"name\" value=\"{name}\"><label for=\"{id}\"><code>{name}</code></label><select id=\"{id}\" name=\"value\">");
            foreach (var allowed in AccountSettings.ValuesOf(name))
            {
                RepositorySettingsPage.Option(body, allowed, allowed, allowed == value);
            }

            body.Add($"</select> <button type=\"submit\" aria-label=\"Save {name}\">Save</button></form>");
        }

        body.Raw("<dl class=\"facts\"><dt><code>BASIC_SCAN_TYPE_VERSION</code></dt><dd>Which engine basic scanning uses.</dd><dt><code>REGISTRY_POLICY_SCOPE</code></dt><dd><code>V2</code>: the registry policy applies to every ECR action; <code>V1</code>: to replication and pull-through cache only.</dd><dt><code>BLOB_MOUNTING</code></dt><dd>Cross-repository blob mounts on push (Wharf enables them by default).</dd></dl></section>");
    }
}
