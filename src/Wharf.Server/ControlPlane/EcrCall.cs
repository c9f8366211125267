using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Identity;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// One ECR API call after parsing and model validation: the caller, the registry it addresses
/// (account from <c>registryId</c> or the caller, region from the credential scope) and typed access to
/// the input. The model has already checked types, lengths, patterns and enums.
/// </summary>
internal sealed class EcrCall(HttpContext context, string operation, JsonElement input, ApiIdentity identity)
{
    public HttpContext Context => context;

    public string Operation => operation;

    public Caller Caller => identity.Caller;

    public CancellationToken Aborted => context.RequestAborted;

    /// <summary>The request body, as the model validated it.</summary>
    public JsonElement Input => input;

    private RegistryKey? registry;

    /// <summary>The private registry the call addresses (account from <c>registryId</c> or the caller, region from the credential scope).</summary>
    /// <remarks>
    /// The model checks <c>registryId</c> only where it declares it; operations such as
    /// <c>DescribeRegistry</c> do not, yet a given one still addresses the registry, so it is checked here alike
    /// (ECR's operations read it before anything else). Read on first use, not on construction: ECR Public's
    /// <c>registryId</c> may be an alias, and its operations address public registries (<c>EcrPublicCall</c>).
    /// </remarks>
    public RegistryKey Registry => registry ??= new(RegistryId(input) ?? identity.Caller.Account, identity.Region);

    /// <summary>The credential scope's region (or the default region of an unsigned call in open mode).</summary>
    public string Region => identity.Region;

    /// <summary>The repository named by <c>repositoryName</c> (required by every operation that calls this).</summary>
    public RepositoryKey Repository => new(Registry, RepositoryName("repositoryName"));

    public JsonElement? Get(string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined ? value : null;

    public string? String(string name) => Get(name)?.GetString();

    public bool Bool(string name) => Get(name)?.GetBoolean() ?? false;

    public long? Long(string name) => Get(name)?.GetInt64();

    public IReadOnlyList<string> Strings(string name) =>
        Get(name) is { } list ? list.EnumerateArray().Select(e => e.GetString()!).ToList() : [];

    public RepositoryName RepositoryName(string member) =>
        Core.Primitives.RepositoryName.TryParse(String(member), out var name)
            ? name
            : throw Invalid(member, $"must satisfy regular expression '{Core.Primitives.RepositoryName.PatternText}'");

    private static AccountId? RegistryId(JsonElement input)
    {
        if (!input.TryGetProperty("registryId", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        // A lone surrogate escape parses as JSON but cannot be read as a string.
        return !TryGetString(id, out var text) || !AccountId.TryParse(text, out var account)
            ? throw Invalid("registryId", "must satisfy regular expression '[0-9]{12}'")
            : account;
    }

    private static bool TryGetString(JsonElement element, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        try
        {
            text = element.GetString();
            return text is not null;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

    /// <summary>ECR's parameter error wording.</summary>
    public static WharfException Invalid(string member, string constraint) => WharfException.InvalidParameter(member, constraint);
}
