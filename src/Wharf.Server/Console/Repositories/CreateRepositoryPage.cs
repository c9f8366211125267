using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Server.ControlPlane;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>
/// <c>/console/{account}/{region}/repositories/new</c>: every <c>CreateRepository</c> setting. The form becomes
/// the API's request body and goes through the API's model validation and reader (<see cref="RepositoryRequests"/>)
/// and <see cref="RepositoryService.CreateAsync"/> as the signed-in principal, so it is refused exactly when
/// and as the API refuses it. No creation template applies: ECR's <c>CreateRepository</c> applies none.
/// </summary>
internal static class CreateRepositoryPage
{
    /// <summary>Resource tag rows the form offers (ECR allows 50 tags on a repository).</summary>
    private const int TagRows = 5;

    private static readonly string[] Mutabilities = ["MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"];
    private static readonly string[] Encryptions = ["AES256", "KMS", "KMS_DSSE"];

    public static async Task HandleAsync(HttpContext context, string account, string region, RepositoryService repositories, ConsoleLayout layout)
    {
        var user = ConsoleRequest.User(context);
        if (!ConsoleRouteValues.TryRegistry(account, region, out var key))
        {
            await ConsoleRouteValues.NotFoundAsync(context, user, "registry");
            return;
        }

        var registry = key.Value;
        var form = HttpMethods.IsPost(context.Request.Method) ? Read(context) : new Input(string.Empty, "MUTABLE", string.Empty, false, "AES256", string.Empty, []);
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await WriteAsync(context, user, layout, registry, form, null, StatusCodes.Status200OK);
            return;
        }

        if (ConsoleForms.Field(context, ConsoleForms.ActionField) != "create")
        {
            await WriteAsync(context, user, layout, registry, form, ConsoleErrors.Banner("This form does not do that.", "The create form only creates repositories."), StatusCodes.Status400BadRequest);
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(form.ToRequest(registry).ToJsonString());
            RepositoryRequests.Validate("CreateRepository", document.RootElement);
            var name = RepositoryName.TryParse(form.Name, out var parsed)
                ? parsed
                : throw EcrCall.Invalid("repositoryName", $"must satisfy regular expression '{RepositoryName.PatternText}'");
            var (settings, tags) = RepositoryRequests.ReadCreate(document.RootElement);
            var created = await repositories.CreateAsync(user.Caller, new RepositoryKey(registry, name), settings, tags, context.RequestAborted);
            await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Repository(created.Key), $"Repository {created.Key.Name} created.");
        }
        catch (WharfException e)
        {
            await WriteAsync(context, user, layout, registry, form, ConsoleErrors.Banner(e), ConsoleRouteValues.Status(e));
        }
    }

    private static Input Read(HttpContext context)
    {
        var posted = ConsoleForms.Form(context);
        var keys = posted["tagKey"];
        var values = posted["tagValue"];
        var tags = new List<(string, string)>();
        for (var i = 0; i < Math.Max(keys.Count, values.Count); i++)
        {
            tags.Add((i < keys.Count ? keys[i] ?? string.Empty : string.Empty, i < values.Count ? values[i] ?? string.Empty : string.Empty));
        }

        return new Input(
            ConsoleForms.Field(context, "name")?.Trim() ?? string.Empty,
            ConsoleForms.Field(context, "mutability") ?? "MUTABLE",
            ConsoleForms.Field(context, "exclusions") ?? string.Empty,
            ConsoleForms.Field(context, "scanOnPush") == "on",
            ConsoleForms.Field(context, "encryption") ?? "AES256",
            ConsoleForms.Field(context, "kmsKey")?.Trim() ?? string.Empty,
            tags);
    }

    private static async Task WriteAsync(HttpContext context, ConsoleUser user, ConsoleLayout layout, RegistryKey registry, Input form, Html? banner, int status)
    {
        var action = ConsoleRoutes.NewRepository(registry);
        var html = new Html();
        html.Raw("<div class=\"page-head\"><h1>Create repository</h1></div>");
        html.Append(banner ?? new Html());
        html.Append(ConsoleForms.Open(user, action, "create", label: "Create repository"));
        html.Raw("<fieldset><legend>General</legend>");
        html.Add($"<label for=\"name\">Repository name</label><input id=\"name\" name=\"name\" required maxlength=\"256\" autocomplete=\"off\" spellcheck=\"false\" value=\"{form.Name}\" aria-describedby=\"name-hint\">");
        html.Raw("<p id=\"name-hint\" class=\"hint\">2 to 256 characters: lowercase letters and digits, separated by . _ - or / (namespaces). The repository's URI is the registry's address followed by this name.</p>");
        html.Raw("<label for=\"mutability\">Tag mutability</label><select id=\"mutability\" name=\"mutability\" aria-describedby=\"mutability-hint\">");
        foreach (var m in Mutabilities)
        {
            html.Add($"<option value=\"{m}\"{Selected(m == form.Mutability)}>{m}</option>");
        }

        html.Raw("</select><p id=\"mutability-hint\" class=\"hint\">IMMUTABLE refuses to move a tag once pushed; the _WITH_EXCLUSION modes make the tags matching the filters below behave the other way.</p>");
        html.Add($"<label for=\"exclusions\">Mutability exclusion filters</label><textarea id=\"exclusions\" name=\"exclusions\" rows=\"3\" spellcheck=\"false\" aria-describedby=\"exclusions-hint\">{form.Exclusions}</textarea>");
        html.Raw("<p id=\"exclusions-hint\" class=\"hint\">One wildcard filter per line (for example <code>latest</code> or <code>dev-*</code>), only with a _WITH_EXCLUSION mode.</p>");
        html.Raw("</fieldset><fieldset><legend>Image scanning</legend>");
        html.Add($"<label class=\"check\" for=\"scanOnPush\"><input type=\"checkbox\" id=\"scanOnPush\" name=\"scanOnPush\"{Checked(form.ScanOnPush)}> Scan on push</label>");
        html.Raw("</fieldset><fieldset><legend>Encryption</legend><label for=\"encryption\">Encryption type</label><select id=\"encryption\" name=\"encryption\">");
        foreach (var e in Encryptions)
        {
            html.Add($"<option value=\"{e}\"{Selected(e == form.Encryption)}>{e}</option>");
        }

        html.Add($"</select><label for=\"kmsKey\">KMS key</label><input id=\"kmsKey\" name=\"kmsKey\" maxlength=\"2048\" spellcheck=\"false\" value=\"{form.KmsKey}\" aria-describedby=\"kms-hint\">");
        html.Raw("<p id=\"kms-hint\" class=\"hint\">With KMS or KMS_DSSE only: a key ARN or id. Empty: the registry's AWS managed key. The encryption cannot be changed later.</p>");
        html.Raw("</fieldset><fieldset><legend>Resource tags</legend>");
        var rows = form.Tags.Where(t => t.Key.Length > 0 || t.Value.Length > 0).ToList();
        while (rows.Count < TagRows)
        {
            rows.Add((string.Empty, string.Empty));
        }

        html.Raw("<div class=\"table-wrap\"><table class=\"list\"><caption class=\"sr-only\">Resource tags</caption><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Value</th></tr></thead><tbody>");
        for (var i = 0; i < rows.Count; i++)
        {
            html.Add($"<tr><td><label class=\"sr-only\" for=\"tag-key-{i + 1}\">Tag {i + 1} key</label><input id=\"tag-key-{i + 1}\" name=\"tagKey\" maxlength=\"128\" value=\"{rows[i].Key}\"></td>");
            html.Add($"<td><label class=\"sr-only\" for=\"tag-value-{i + 1}\">Tag {i + 1} value</label><input id=\"tag-value-{i + 1}\" name=\"tagValue\" maxlength=\"256\" value=\"{rows[i].Value}\"></td></tr>");
        }

        html.Raw("</tbody></table></div></fieldset>");
        html.Add($"<div class=\"actions\"><button type=\"submit\">Create repository</button><a class=\"button secondary\" href=\"{ConsoleRoutes.Repositories(registry)}\">Cancel</a></div></form>");
        await layout.WriteAsync(context, user, new ConsolePage("Create repository", html)
        {
            Status = status,
            Registry = registry,
            Breadcrumbs = [ConsoleRouteValues.RegistryCrumb(registry), ("Create repository", null)],
        });
    }

    private static Html? Selected(bool on) => on ? new Html().Raw(" selected") : null;

    private static Html? Checked(bool on) => on ? new Html().Raw(" checked") : null;

    /// <summary>What the form holds, as typed.</summary>
    private sealed record Input(string Name, string Mutability, string Exclusions, bool ScanOnPush, string Encryption, string KmsKey, IReadOnlyList<(string Key, string Value)> Tags)
    {
        /// <summary>The <c>CreateRepository</c> body the API would receive for this form.</summary>
        public JsonObject ToRequest(RegistryKey registry)
        {
            var request = new JsonObject
            {
                ["registryId"] = registry.Account.Value,
                ["repositoryName"] = Name,
                ["imageTagMutability"] = Mutability,
                ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = ScanOnPush },
            };
            var filters = Exclusions.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (filters.Length > 0)
            {
                request["imageTagMutabilityExclusionFilters"] = new JsonArray([.. filters.Select(f => (JsonNode)new JsonObject { ["filterType"] = "WILDCARD", ["filter"] = f })]);
            }

            var encryption = new JsonObject { ["encryptionType"] = Encryption };
            if (KmsKey.Length > 0)
            {
                encryption["kmsKey"] = KmsKey;
            }

            request["encryptionConfiguration"] = encryption;
            var tags = Tags.Where(t => t.Key.Length > 0 || t.Value.Length > 0).ToList();
            if (tags.Count > 0)
            {
                request["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value })]);
            }

            return request;
        }
    }
}
