using System.Data.Common;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>Customer managed policies and their versions.</summary>
internal sealed partial class IdentityStore
{
    public Task<ManagedPolicyRecord?> CreateManagedPolicyAsync(ManagedPolicyRecord policy, string document, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", policy.Account.Value)], cancellationToken)
                    || await s.ExecuteAsync(
                        $"INSERT INTO iam_policies (arn, account, name, unique_id, description, default_version, next_version, created_at, updated_at) VALUES (@arn, @account, @name, @unique, @description, 1, 2, @now, @now) {NewArn}",
                        [("arn", policy.Arn), ("account", policy.Account.Value), ("name", policy.Name), ("unique", policy.UniqueId), ("description", policy.Description), ("now", Columns.Ms(policy.CreatedAt))],
                        cancellationToken) == 0)
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES (@arn, 1, @document, @now)",
                    [("arn", policy.Arn), ("document", document), ("now", Columns.Ms(policy.CreatedAt))],
                    cancellationToken);
                return policy with { DefaultVersionId = "v1", AttachmentCount = 0, UpdatedAt = policy.CreatedAt };
            },
            cancellationToken);

    public Task<ManagedPolicyRecord?> GetManagedPolicyAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {PolicyColumns} FROM iam_policies p WHERE p.arn = @arn", MapPolicy, [("arn", arn)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ManagedPolicyRecord>> ListManagedPoliciesAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ManagedPolicyRecord>>(
            async s => await s.ListAsync($"SELECT {PolicyColumns} FROM iam_policies p WHERE p.account = @account ORDER BY p.name", MapPolicy, [("account", account.Value)], cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<ManagedPolicyRecord>> ListManagedPoliciesAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ManagedPolicyRecord>>(
            async s => await s.ListAsync(
                $"SELECT {PolicyColumns} FROM iam_policies p WHERE p.account = @account {Keyset.After(after, "p.name")} ORDER BY p.name LIMIT @limit",
                MapPolicy,
                [("account", account.Value), ("after", after), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<PolicyVersionRecord>> ListPolicyVersionsAsync(string policyArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PolicyVersionRecord>>(
            async s => await s.ListAsync(
                "SELECT v.version, v.document, v.version = p.default_version, v.created_at FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn WHERE v.policy_arn = @arn ORDER BY v.version DESC",
                MapVersion,
                [("arn", policyArn)],
                cancellationToken),
            cancellationToken);

    public Task<PolicyVersionRecord?> AddPolicyVersionAsync(string policyArn, string document, bool setAsDefault, int maxVersions, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                // The row lock (SQLite: the writer lock) orders concurrent writers: version numbers and the limit stay exact.
                var next = (await s.ListAsync($"SELECT next_version FROM iam_policies WHERE arn = @arn{s.Dialect.ForUpdate}", r => (int?)r.GetInt32(0), [("arn", policyArn)], cancellationToken)).FirstOrDefault();
                var count = (await s.ListAsync("SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = @arn", r => r.GetInt64(0), [("arn", policyArn)], cancellationToken))[0];
                if (next is not { } version || count >= maxVersions)
                {
                    return null;
                }

                await s.ExecuteAsync(
                    "INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES (@arn, @version, @document, @now)",
                    [("arn", policyArn), ("version", version), ("document", document), ("now", Columns.Ms(now))],
                    cancellationToken);
                await s.ExecuteAsync(
                    setAsDefault
                        ? "UPDATE iam_policies SET next_version = @next, default_version = @version, updated_at = @now WHERE arn = @arn"
                        : "UPDATE iam_policies SET next_version = @next WHERE arn = @arn",
                    [("arn", policyArn), ("next", version + 1), ("version", version), ("now", Columns.Ms(now))],
                    cancellationToken);
                return new PolicyVersionRecord($"v{version}", document, setAsDefault, now);
            },
            cancellationToken);

    public Task<bool> SetDefaultPolicyVersionAsync(string policyArn, string versionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => VersionNumber(versionId) is { } version
                && await s.ExecuteAsync(
                    "UPDATE iam_policies SET default_version = @version, updated_at = @now WHERE arn = @arn AND EXISTS (SELECT 1 FROM iam_policy_versions WHERE policy_arn = @arn AND version = @version)",
                    [("arn", policyArn), ("version", version), ("now", Columns.Ms(now))],
                    cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeletePolicyVersionAsync(string policyArn, string versionId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => VersionNumber(versionId) is { } version
                && await s.ExecuteAsync(
                    "DELETE FROM iam_policy_versions WHERE policy_arn = @arn AND version = @version AND version <> (SELECT default_version FROM iam_policies WHERE arn = @arn)",
                    [("arn", policyArn), ("version", version)],
                    cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteManagedPolicyAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM iam_policies WHERE arn = @arn", [("arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<string>> GetManagedPolicyDocumentsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async s =>
            {
                var documents = new List<string>(arns.Count);
                foreach (var arn in arns)
                {
                    if (await s.SingleAsync(
                        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version = p.default_version WHERE p.arn = @arn",
                        r => r.GetString(0),
                        [("arn", arn)],
                        cancellationToken) is { } document)
                    {
                        documents.Add(document);
                    }
                }

                return documents;
            },
            cancellationToken);

    public Task<int> CountAttachmentsAsync(string policyArn, AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async s => (int)(await s.ListAsync($"SELECT {AttachmentCount}", r => r.GetInt64(0), [("arn", policyArn), ("account", account.Value)], cancellationToken))[0],
            cancellationToken);

    private const string AttachmentCount =
        "(SELECT COUNT(*) FROM principal_managed_policies m JOIN principals o ON o.arn = m.principal_arn WHERE m.policy_arn = @arn AND o.account = @account) + "
        + "(SELECT COUNT(*) FROM group_managed_policies m JOIN iam_groups o ON o.arn = m.group_arn WHERE m.policy_arn = @arn AND o.account = @account)";

    private const string PolicyColumns =
        "p.arn, p.account, p.name, p.unique_id, p.description, p.default_version, "
        + "(SELECT COUNT(*) FROM principal_managed_policies m WHERE m.policy_arn = p.arn) + (SELECT COUNT(*) FROM group_managed_policies g WHERE g.policy_arn = p.arn), "
        + "p.created_at, p.updated_at";

    private static ManagedPolicyRecord MapPolicy(DbDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.NullableString(4), $"v{r.GetInt32(5)}", (int)r.GetInt64(6), r.Time(7), r.Time(8));

    private static PolicyVersionRecord MapVersion(DbDataReader r) =>
        new($"v{r.GetInt32(0)}", r.GetString(1), r.GetBoolean(2), r.Time(3));

    // "v3" → 3; anything else names no version.
    private static int? VersionNumber(string versionId) =>
        versionId.Length > 1 && versionId[0] == 'v' && int.TryParse(versionId.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
}
