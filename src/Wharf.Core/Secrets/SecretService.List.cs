using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Secrets;

/// <summary>One <c>ListSecrets</c> filter: its key (<c>name</c>, <c>description</c>, <c>tag-key</c>, …) and its values.</summary>
public sealed record SecretFilter(string Key, IReadOnlyList<string> Values);

/// <summary>What <c>ListSecrets</c> asks: filters (all must match), the order, and whether scheduled secrets are listed.</summary>
public sealed record SecretQuery(IReadOnlyList<SecretFilter> Filters, string SortBy = "created-date", bool Descending = false, bool IncludePlannedDeletion = false);

public sealed partial class SecretService
{
    private const int ReadBatch = 1000;

    /// <summary>
    /// <c>ListSecrets</c>: the registry's secrets that match <paramref name="query"/>, in its order, from
    /// <paramref name="offset"/>, at most <paramref name="limit"/>, with their versions; and whether more follow.
    /// Authorised on <c>*</c>, as Secrets Manager authorises the listing.
    /// </summary>
    public async Task<(IReadOnlyList<SecretDescription> Page, bool More)> ListAsync(
        Caller caller, RegistryKey registry, SecretQuery query, int offset, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await authorizer.AuthorizeAsync(caller, SecretsManagerActions.ListSecrets, "*", cancellationToken);
        var matches = await MatchAsync(registry, query, cancellationToken);
        var page = new List<SecretDescription>();
        foreach (var secret in matches.Skip(offset).Take(limit))
        {
            page.Add(new SecretDescription(secret, await store.Secrets.ListVersionsAsync(secret.Id, cancellationToken)));
        }

        return (page, offset + page.Count < matches.Count);
    }

    /// <summary>The registry's secrets that match, sorted (read in keyset batches; filters apply in memory).</summary>
    private async Task<IReadOnlyList<SecretRecord>> MatchAsync(RegistryKey registry, SecretQuery query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var matches = new List<SecretRecord>();
        string? after = null;
        while (true)
        {
            var batch = await store.Secrets.ListAsync(registry, after, ReadBatch, cancellationToken);
            matches.AddRange(batch.Where(s =>
                !IsPastRecovery(s, now)
                && (query.IncludePlannedDeletion || !s.IsScheduledForDeletion)
                && query.Filters.All(f => SecretFilters.Matches(f, s))));
            if (batch.Count < ReadBatch)
            {
                break;
            }

            after = batch[^1].Name;
        }

        Func<SecretRecord, IComparable?> key = query.SortBy switch
        {
            "name" => s => s.Name,
            "last-changed-date" => s => s.ChangedAt,
            "last-accessed-date" => s => s.AccessedAt,
            _ => s => s.CreatedAt,
        };
        var comparer = Comparer<IComparable?>.Create((a, b) => a is null ? (b is null ? 0 : -1) : b is null ? 1 : a is string x ? string.CompareOrdinal(x, (string)b) : a.CompareTo(b));
        var sorted = query.Descending
            ? matches.OrderByDescending(key, comparer).ThenByDescending(s => s.Name, StringComparer.Ordinal)
            : matches.OrderBy(key, comparer).ThenBy(s => s.Name, StringComparer.Ordinal);
        return sorted.ToList();
    }
}

/// <summary>
/// <c>ListSecrets</c> filters as Secrets Manager documents them: prefix matches (<c>name</c>, <c>tag-key</c>,
/// <c>tag-value</c>, <c>primary-region</c>, <c>owning-service</c> case-sensitive; <c>description</c> not), a value
/// starting with <c>!</c> negated, the values of one filter or'ed, <c>all</c> matching every word against any attribute.
/// </summary>
internal static class SecretFilters
{
    public static bool Matches(SecretFilter filter, SecretRecord secret)
    {
        var positives = filter.Values.Where(v => !v.StartsWith('!')).ToList();
        var negatives = filter.Values.Where(v => v.StartsWith('!')).Select(v => v[1..]).ToList();
        return (positives.Count == 0 || positives.Any(v => Matches(filter.Key, v, secret)))
            && !negatives.Any(v => Matches(filter.Key, v, secret));
    }

    private static bool Matches(string key, string value, SecretRecord secret) => key switch
    {
        "name" => secret.Name.StartsWith(value, StringComparison.Ordinal),
        "description" => secret.Description?.StartsWith(value, StringComparison.OrdinalIgnoreCase) == true,
        "tag-key" => secret.Tags.Any(t => t.Key.StartsWith(value, StringComparison.Ordinal)),
        "tag-value" => secret.Tags.Any(t => t.Value.StartsWith(value, StringComparison.Ordinal)),
        "primary-region" => secret.Registry.Region.StartsWith(value, StringComparison.Ordinal),
        "all" => value.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(word => Attributes(secret).Any(a => a.StartsWith(word, StringComparison.OrdinalIgnoreCase))),

        // owning-service: no secret here is managed by another service.
        _ => false,
    };

    private static IEnumerable<string> Attributes(SecretRecord secret)
    {
        yield return secret.Name;
        if (secret.Description is { } description)
        {
            foreach (var word in description.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return word;
            }
        }

        foreach (var tag in secret.Tags)
        {
            yield return tag.Key;
            yield return tag.Value;
        }
    }
}
