using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

/// <summary>IAM login profiles and console sessions over the tables of migration 17.</summary>
internal sealed class LoginStore(Database database) : ILoginStore
{
    private readonly Database database = database;

    // The console's sign-in issue fills these in (tables in migration 0017 of both engines).
    public Task<bool> CreateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken) => throw NotYet();

    public Task<bool> UpdateLoginProfileAsync(LoginProfileRecord profile, CancellationToken cancellationToken) => throw NotYet();

    public Task<LoginProfileRecord?> GetLoginProfileAsync(string principalArn, CancellationToken cancellationToken) => throw NotYet();

    public Task<bool> DeleteLoginProfileAsync(string principalArn, CancellationToken cancellationToken) => throw NotYet();

    public Task CreateSessionAsync(ConsoleSessionRecord session, CancellationToken cancellationToken) => throw NotYet();

    public Task<ConsoleSessionRecord?> GetSessionAsync(string idHash, CancellationToken cancellationToken) => throw NotYet();

    public Task<bool> TouchSessionAsync(string idHash, DateTimeOffset lastSeenAt, CancellationToken cancellationToken) => throw NotYet();

    public Task<bool> DeleteSessionAsync(string idHash, CancellationToken cancellationToken) => throw NotYet();

    public Task<int> DeleteSessionsAsync(string principalArn, CancellationToken cancellationToken) => throw NotYet();

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset idleBefore, DateTimeOffset createdBefore, CancellationToken cancellationToken) => throw NotYet();

    private NotSupportedException NotYet() => new($"login store not implemented yet ({database.GetType().Name})");
}
