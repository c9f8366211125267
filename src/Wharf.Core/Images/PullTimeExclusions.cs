using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Images;

/// <summary>An IAM user or role whose pulls do not move ECR's <c>lastRecordedPullTime</c>.</summary>
public sealed record PullTimeExclusion(string PrincipalArn, DateTimeOffset CreatedAt);

/// <summary>
/// ECR's pull-time update exclusions (ECR-NOTES §1.6): up to 100 IAM users or roles per registry whose
/// pulls <see cref="PullRecorder"/> does not record — for scanners and replicators that pull every image
/// and would otherwise keep lifecycle rules on last pull from ever expiring anything. A role excludes
/// its sessions. They are kept as one registry setting, changed under the registry's row lock.
/// </summary>
public sealed class PullTimeExclusions(IMetadataStore store, IAccessAuthorizer authorizer, TimeProvider time)
{
    /// <summary>The registry setting that holds the list (beside ECR's account settings).</summary>
    public const string SettingName = "wharf:PULL_TIME_UPDATE_EXCLUSIONS";

    /// <summary>ECR's limit per registry.</summary>
    public const int MaxExclusions = 100;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { TypeInfoResolver = CoreJsonContext.Default };

    private enum Change
    {
        Done,
        Exists,
        Missing,
        Full,
    }

    public async Task<PullTimeExclusion> RegisterAsync(Caller caller, RegistryKey registry, string principalArn, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.RegisterPullTimeUpdateExclusion, "*", cancellationToken);
        var exclusion = new PullTimeExclusion(principalArn, time.GetUtcNow());
        var change = await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            SettingName,
            current =>
            {
                var list = Parse(current);
                if (list.Any(e => e.PrincipalArn == principalArn))
                {
                    return (current, Change.Exists);
                }

                return list.Count >= MaxExclusions ? (current, Change.Full) : (Serialize([.. list, exclusion]), Change.Done);
            },
            cancellationToken);
        return change switch
        {
            Change.Exists => throw new WharfException(
                WharfErrorCode.ExclusionAlreadyExists,
                $"The principal '{principalArn}' is already excluded from pull time updates in the registry with id '{registry.Account}'"),
            Change.Full => throw new WharfException(
                WharfErrorCode.ExclusionLimitExceeded,
                $"The registry with id '{registry.Account}' already has the maximum of {MaxExclusions} pull time update exclusions"),
            _ => exclusion,
        };
    }

    public async Task DeregisterAsync(Caller caller, RegistryKey registry, string principalArn, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.DeregisterPullTimeUpdateExclusion, "*", cancellationToken);
        var change = await store.Repositories.ChangeRegistrySettingAsync(
            registry,
            SettingName,
            current =>
            {
                var list = Parse(current);
                var kept = list.Where(e => e.PrincipalArn != principalArn).ToList();
                return kept.Count == list.Count ? (current, Change.Missing) : (kept.Count == 0 ? null : Serialize(kept), Change.Done);
            },
            cancellationToken);
        if (change == Change.Missing)
        {
            throw new WharfException(
                WharfErrorCode.ExclusionNotFound,
                $"The principal '{principalArn}' is not excluded from pull time updates in the registry with id '{registry.Account}'");
        }
    }

    /// <summary>The registry's exclusions, oldest first.</summary>
    public async Task<IReadOnlyList<PullTimeExclusion>> ListAsync(Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, registry, EcrActions.ListPullTimeUpdateExclusions, "*", cancellationToken);
        return await LoadAsync(store.Repositories, registry, cancellationToken);
    }

    /// <summary>The registry's exclusions, without authorisation (for <see cref="PullRecorder"/>).</summary>
    public static async Task<IReadOnlyList<PullTimeExclusion>> LoadAsync(IRepositoryStore repositories, RegistryKey registry, CancellationToken cancellationToken) =>
        Parse((await repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(SettingName));

    private static List<PullTimeExclusion> Parse(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize(json, Json.TypeInfo<List<PullTimeExclusion>>()) ?? [];

    private static string Serialize(List<PullTimeExclusion> list) => JsonSerializer.Serialize(list, Json.TypeInfo<List<PullTimeExclusion>>());
}
