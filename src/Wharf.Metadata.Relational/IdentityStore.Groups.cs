using System.Data.Common;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>Groups and their members.</summary>
internal sealed partial class IdentityStore
{
    public Task<GroupRecord?> CreateGroupAsync(GroupRecord group, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                return await s.ExistsAsync("SELECT 1 FROM accounts WHERE id = @account", [("account", group.Account.Value)], cancellationToken)
                    && await s.ExecuteAsync(
                        $"INSERT INTO iam_groups (arn, account, name, unique_id, created_at) VALUES (@arn, @account, @name, @unique, @now) {NewArn}",
                        [("arn", group.Arn), ("account", group.Account.Value), ("name", group.Name), ("unique", group.UniqueId), ("now", Columns.Ms(group.CreatedAt))],
                        cancellationToken) > 0
                    ? group
                    : null;
            },
            cancellationToken);

    public Task<GroupRecord?> GetGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE arn = @arn",
                r => new GroupRecord(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.Time(4)),
                [("arn", arn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteGroupAsync(string arn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM iam_groups WHERE arn = @arn", [("arn", arn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<PrincipalRecord>> ListGroupMembersAsync(string groupArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<PrincipalRecord>>(
            async s => await s.ListAsync(
                "SELECT p.arn, p.account, p.kind, p.name, p.unique_id, p.created_at FROM group_members m JOIN principals p ON p.arn = m.user_arn WHERE m.group_arn = @arn ORDER BY p.name",
                MapPrincipal,
                [("arn", groupArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> AddGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (!await s.ExistsAsync($"SELECT 1 FROM iam_groups WHERE arn = @arn{s.Dialect.ForUpdate}", [("arn", groupArn)], cancellationToken)
                    || !await s.ExistsAsync($"SELECT 1 FROM principals WHERE arn = @arn AND kind = 'user'{s.Dialect.ForUpdate}", [("arn", userArn)], cancellationToken))
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "INSERT INTO group_members (group_arn, user_arn) VALUES (@group, @user) ON CONFLICT DO NOTHING",
                    [("group", groupArn), ("user", userArn)],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    public Task<bool> RemoveGroupMemberAsync(string groupArn, string userArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM group_members WHERE group_arn = @group AND user_arn = @user", [("group", groupArn), ("user", userArn)], cancellationToken) > 0,
            cancellationToken);

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(AccountId account, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<GroupRecord>>(
            async s => await s.ListAsync(
                "SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE account = @account ORDER BY name",
                MapGroup,
                [("account", account.Value)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(AccountId account, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<GroupRecord>>(
            async s => await s.ListAsync(
                $"SELECT arn, account, name, unique_id, created_at FROM iam_groups WHERE account = @account{Keyset.After(after, "name")} ORDER BY name LIMIT @limit",
                MapGroup,
                [("account", account.Value), ("after", after), ("limit", limit)],
                cancellationToken),
            cancellationToken);

    public Task<IReadOnlyList<GroupRecord>> ListGroupsForUserAsync(string userArn, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<GroupRecord>>(
            async s => await s.ListAsync(
                "SELECT g.arn, g.account, g.name, g.unique_id, g.created_at FROM group_members m JOIN iam_groups g ON g.arn = m.group_arn WHERE m.user_arn = @arn ORDER BY g.name",
                MapGroup,
                [("arn", userArn)],
                cancellationToken),
            cancellationToken);

    private static GroupRecord MapGroup(DbDataReader r) =>
        new(r.GetString(0), AccountId.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.Time(4));
}
