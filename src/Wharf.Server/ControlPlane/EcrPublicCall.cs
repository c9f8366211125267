using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// One ECR Public API call: the parsed call and the public registry it addresses — the account of
/// <c>registryId</c> (an account id or, where the model's member is <c>RegistryIdOrAlias</c>, a registry
/// alias) or else the caller's. The SigV4 region plays no part: every public registry is
/// <see cref="RegistryKey.Public"/> whatever region the credential scope names (AWS serves the API in
/// us-east-1 only; Wharf has no reason to refuse others, and SDKs configured for another region still work).
/// </summary>
internal sealed class EcrPublicCall
{
    private EcrPublicCall(EcrCall call, RegistryKey registry)
    {
        Call = call;
        Registry = registry;
    }

    public EcrCall Call { get; }

    /// <summary>The public registry the call addresses.</summary>
    public RegistryKey Registry { get; }

    public string Operation => Call.Operation;

    public Caller Caller => Call.Caller;

    public HttpContext Context => Call.Context;

    public CancellationToken Aborted => Call.Aborted;

    /// <summary>The public repository named by <c>repositoryName</c>.</summary>
    public RepositoryKey Repository => new(Registry, Call.RepositoryName("repositoryName"));

    public string? String(string name) => Call.String(name);

    public JsonElement? Get(string name) => Call.Get(name);

    /// <summary>
    /// Reads the registry the call addresses; an alias nobody has is <c>RegistryNotFoundException</c>. Only
    /// where the operation's input declares <c>registryId</c> (the model has then checked it is a string of
    /// the member's shape); the others — <c>CreateRepository</c>, the registry's own operations, resource
    /// tags — act on the caller's registry or the ARN's.
    /// </summary>
    public static async ValueTask<EcrPublicCall> ResolveAsync(EcrCall call, ServiceModel model, PublicRegistryService registries)
    {
        var account = call.Caller.Account;
        if (RegistryIdShape(call.Operation, model) is { } shape && call.String("registryId") is { } text)
        {
            if (AccountId.TryParse(text, out var id))
            {
                account = id;
            }
            else if (shape != "RegistryIdOrAlias")
            {
                throw EcrCall.Invalid("registryId", "must satisfy regular expression '[0-9]{12}'");
            }
            else
            {
                account = (await registries.ResolveAliasAsync(text, call.Aborted))?.Account ?? throw RegistryNotFound(text);
            }
        }

        return new EcrPublicCall(call, RegistryKey.Public(account));
    }

    /// <summary>ECR Public's refusal of a registry id or alias it does not know.</summary>
    public static WharfException RegistryNotFound(string idOrAlias) =>
        new(WharfErrorCode.RegistryNotFound, $"The registry with id or alias '{idOrAlias}' does not exist.");

    // RegistryId (an account id) or RegistryIdOrAlias (the layer-upload API, PutImage,
    // BatchCheckLayerAvailability, BatchDeleteImage): read from the model, so a new operation needs no change here.
    private static string? RegistryIdShape(string operation, ServiceModel model) =>
        model.TryGetOperation(operation, out var op) && op.InputShape is { } input
            ? model.Shape(input).Members.Where(m => m.Name == "registryId").Select(m => m.Shape).FirstOrDefault()
            : null;
}
