using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>Inline and attached policies of principals and groups, and what evaluation reads of them.</summary>
internal sealed partial class IdentityStore
{
    public Task<bool> PutInlinePolicyAsync(string principalArn, string name, string document, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Inline} ({t.Owner}, name, document) VALUES (@arn, @name, @document) ON CONFLICT ({t.Owner}, name) DO UPDATE SET document = excluded.document",
            [("arn", principalArn), ("name", name), ("document", document)],
            cancellationToken);
    }

    public Task<bool> DeleteInlinePolicyAsync(string principalArn, string name, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Inline} WHERE {t.Owner} = @arn AND name = @name", [("arn", principalArn), ("name", name)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<bool> AttachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return WhenOwnerExistsAsync(
            t,
            principalArn,
            $"INSERT INTO {t.Managed} ({t.Owner}, policy_arn) VALUES (@arn, @policy) ON CONFLICT DO NOTHING",
            [("arn", principalArn), ("policy", policyArn)],
            cancellationToken);
    }

    public Task<bool> DetachManagedPolicyAsync(string principalArn, string policyArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.WriteAsync(
            async s => await s.ExecuteAsync($"DELETE FROM {t.Managed} WHERE {t.Owner} = @arn AND policy_arn = @policy", [("arn", principalArn), ("policy", policyArn)], cancellationToken) > 0,
            cancellationToken);
    }

    public Task<(IReadOnlyList<(string Name, string Document)> Inline, IReadOnlyList<string> Managed)> GetPoliciesAsync(string principalArn, CancellationToken cancellationToken)
    {
        var t = PolicyTables.For(principalArn);
        return database.ReadAsync<(IReadOnlyList<(string Name, string Document)>, IReadOnlyList<string>)>(
            async s => (
                await s.ListAsync($"SELECT name, document FROM {t.Inline} WHERE {t.Owner} = @arn ORDER BY name", r => (r.GetString(0), r.GetString(1)), [("arn", principalArn)], cancellationToken),
                await s.ListAsync($"SELECT policy_arn FROM {t.Managed} WHERE {t.Owner} = @arn ORDER BY policy_arn", r => r.GetString(0), [("arn", principalArn)], cancellationToken)),
            cancellationToken);
    }

    public Task<IdentityPolicies> GetIdentityPoliciesAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s =>
            {
                var rows = await s.ListAsync(
                    """
                    SELECT 0, document FROM principal_policies WHERE principal_arn = @arn
                    UNION ALL SELECT 1, policy_arn FROM principal_managed_policies WHERE principal_arn = @arn
                    UNION ALL SELECT 0, g.document FROM group_members m JOIN group_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = @arn
                    UNION ALL SELECT 1, g.policy_arn FROM group_members m JOIN group_managed_policies g ON g.group_arn = m.group_arn WHERE m.user_arn = @arn
                    """,
                    r => (Managed: r.GetInt32(0) == 1, Text: r.GetString(1)),
                    [("arn", principalArn)],
                    cancellationToken);
                return new IdentityPolicies(
                    rows.Where(r => !r.Managed).Select(r => r.Text).ToList(),
                    rows.Where(r => r.Managed).Select(r => r.Text).Distinct(StringComparer.Ordinal).ToList());
            },
            cancellationToken);

    private Task<bool> WhenOwnerExistsAsync(PolicyTables tables, string ownerArn, string sql, (string, object?)[] parameters, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync($"SELECT 1 FROM {tables.Owners} WHERE arn = @arn{s.Dialect.ForUpdate}", [("arn", ownerArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(sql, parameters, cancellationToken);
                return true;
            },
            cancellationToken);
}
