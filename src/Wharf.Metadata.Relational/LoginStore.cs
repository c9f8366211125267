using System.Data.Common;
using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>
/// IAM login profiles and console sessions over the tables of migration 17. Both reference their
/// principal with <c>ON DELETE CASCADE</c>, so deleting a principal removes them in its transaction.
/// </summary>
internal sealed class LoginStore(Database database) : ILoginStore
{
    private const string SessionColumns = "id_hash, principal_arn, method, access_key_id, created_at, last_seen_at";

    public Task<bool> CreateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                """
                INSERT INTO login_profiles (principal_arn, password_hash, reset_required, created_at)
                SELECT @arn, @hash, @reset, @created WHERE EXISTS (SELECT 1 FROM principals WHERE arn = @arn)
                ON CONFLICT (principal_arn) DO NOTHING
                """,
                [("arn", profile.PrincipalArn), ("hash", profile.PasswordHash), ("reset", profile.PasswordResetRequired), ("created", Columns.Ms(profile.CreatedAt))],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> UpdateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                "UPDATE login_profiles SET password_hash = @hash, reset_required = @reset WHERE principal_arn = @arn",
                [("arn", profile.PrincipalArn), ("hash", profile.PasswordHash), ("reset", profile.PasswordResetRequired)],
                cancellationToken) > 0,
            cancellationToken);

    public Task<LoginProfileRecord?> GetLoginProfileAsync(string principalArn, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync(
                "SELECT principal_arn, password_hash, reset_required, created_at FROM login_profiles WHERE principal_arn = @arn",
                r => new LoginProfileRecord(r.GetString(0), r.GetString(1), r.GetBoolean(2), r.Time(3)),
                [("arn", principalArn)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteLoginProfileAsync(string principalArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                if (await s.ExecuteAsync("DELETE FROM login_profiles WHERE principal_arn = @arn", [("arn", principalArn)], cancellationToken) == 0)
                {
                    return false;
                }

                await s.ExecuteAsync(
                    "DELETE FROM console_sessions WHERE principal_arn = @arn AND method = @method",
                    [("arn", principalArn), ("method", MethodName(ConsoleSignInMethod.Password))],
                    cancellationToken);
                return true;
            },
            cancellationToken);

    // A principal deleted meanwhile inserts nothing: its sessions must not outlive it.
    public Task CreateSessionAsync(ConsoleSessionRecord session, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                """
                INSERT INTO console_sessions (id_hash, principal_arn, method, access_key_id, created_at, last_seen_at)
                SELECT @id, @arn, @method, CAST(@key AS TEXT), @created, @seen WHERE EXISTS (SELECT 1 FROM principals WHERE arn = @arn)
                """,
                [
                    ("id", session.IdHash), ("arn", session.PrincipalArn), ("method", MethodName(session.Method)), ("key", session.AccessKeyId),
                    ("created", Columns.Ms(session.CreatedAt)), ("seen", Columns.Ms(session.LastSeenAt)),
                ],
                cancellationToken),
            cancellationToken);

    public Task<ConsoleSessionRecord?> GetSessionAsync(string idHash, CancellationToken cancellationToken) =>
        database.ReadAsync(
            s => s.SingleAsync($"SELECT {SessionColumns} FROM console_sessions WHERE id_hash = @id", MapSession, [("id", idHash)], cancellationToken),
            cancellationToken);

    public Task<bool> TouchSessionAsync(string idHash, DateTimeOffset lastSeenAt, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync(
                // Never backwards: two nodes touching at once keep the later time.
                "UPDATE console_sessions SET last_seen_at = CASE WHEN last_seen_at > @seen THEN last_seen_at ELSE @seen END WHERE id_hash = @id",
                [("id", idHash), ("seen", Columns.Ms(lastSeenAt))],
                cancellationToken) > 0,
            cancellationToken);

    public Task<bool> DeleteSessionAsync(string idHash, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM console_sessions WHERE id_hash = @id", [("id", idHash)], cancellationToken) > 0,
            cancellationToken);

    public Task<int> DeleteSessionsAsync(string principalArn, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync("DELETE FROM console_sessions WHERE principal_arn = @arn", [("arn", principalArn)], cancellationToken),
            cancellationToken);

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset idleBefore, DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        database.WriteAsync(
            s => s.ExecuteAsync(
                "DELETE FROM console_sessions WHERE last_seen_at < @idle OR created_at < @created",
                [("idle", Columns.Ms(idleBefore)), ("created", Columns.Ms(createdBefore))],
                cancellationToken),
            cancellationToken);

    private static string MethodName(ConsoleSignInMethod method) => method switch
    {
        ConsoleSignInMethod.Password => "password",
        ConsoleSignInMethod.AccessKey => "access-key",
        _ => "open",
    };

    private static ConsoleSessionRecord MapSession(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2) switch
        {
            "password" => ConsoleSignInMethod.Password,
            "access-key" => ConsoleSignInMethod.AccessKey,
            _ => ConsoleSignInMethod.Open,
        },
        r.NullableString(3),
        r.Time(4),
        r.Time(5));
}
