using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Identity;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Core.Security.Policies;
using Wharf.Metadata.Sqlite;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// The operator's identity writes (<c>wharf admin</c>, the first-start bootstrap) go through
/// <see cref="IdentityService"/> over a real SQLite store, on a fake clock.
/// </summary>
public sealed class AdminWritesTests : IAsyncLifetime
{
    private static readonly AccountId Account = AccountId.Parse("210987654321");
    private static readonly DateTimeOffset Start = new(2031, 2, 3, 4, 5, 6, TimeSpan.Zero);
    private const string Allow = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string directory = Path.Combine(Path.GetTempPath(), "wharf-admin-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider time = new(Start);
    private readonly SecretBox secrets = new(RandomNumberGenerator.GetBytes(32));
    private SqliteMetadataStore store = null!;
    private IdentityService identities = null!;

    public async ValueTask InitializeAsync()
    {
        store = new SqliteMetadataStore(Path.Combine(directory, "wharf.db"));
        await store.MigrateAsync(Ct);
        identities = new IdentityService(store, new OpenAccessAuthorizer(), secrets, time);
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Accounts_users_and_keys_the_operator_creates_are_stamped_by_the_TimeProvider()
    {
        Assert.True(await identities.CreateAccountAsync(Account, Ct));
        Assert.False(await identities.CreateAccountAsync(Account, Ct));

        time.Advance(TimeSpan.FromHours(3));
        var user = await identities.CreateUserAsync(Account, "ann", Ct);
        Assert.NotNull(user);
        Assert.Equal(Start.AddHours(3), user.CreatedAt);
        Assert.Equal(Start.AddHours(3), (await store.Identities.GetPrincipalAsync(user.Arn, Ct))!.CreatedAt);
        Assert.Null(await identities.CreateUserAsync(Account, "ann", Ct));

        time.Advance(TimeSpan.FromDays(2));
        var key = await identities.IssueAccessKeyAsync(Account, user.Arn, Ct);
        Assert.NotNull(key);
        var stored = Assert.Single(await store.Identities.ListAccessKeysAsync(user.Arn, Ct));
        Assert.Equal(key.Record.Id, stored.Id);
        Assert.Equal(Start.AddHours(3).AddDays(2), stored.CreatedAt);
        Assert.Equal(key.Secret, AccessKeys.Unseal(stored, secrets));
    }

    [Fact]
    public async Task The_operator_may_issue_root_keys_beyond_the_API_quota_but_not_keys_of_absent_users()
    {
        var root = $"arn:aws:iam::{Account}:root";
        for (var i = 0; i <= IdentityService.MaxKeysPerUser; i++)
        {
            Assert.NotNull(await identities.IssueAccessKeyAsync(Account, root, Ct));
        }

        Assert.Equal(IdentityService.MaxKeysPerUser + 1, (await store.Identities.ListAccessKeysAsync(root, Ct)).Count);
        Assert.Null(await identities.IssueAccessKeyAsync(Account, $"arn:aws:iam::{Account}:user/nobody", Ct));
    }

    [Fact]
    public async Task The_first_root_key_is_issued_once_at_the_clock_time()
    {
        time.Advance(TimeSpan.FromMinutes(42));
        var first = await identities.IssueFirstRootKeyAsync(Account, Ct);
        Assert.NotNull(first);
        Assert.Equal($"arn:aws:iam::{Account}:root", first.Record.PrincipalArn);
        Assert.Equal(Start.AddMinutes(42), Assert.Single(await store.Identities.ListAccessKeysAsync(first.Record.PrincipalArn, Ct)).CreatedAt);
        Assert.Null(await identities.IssueFirstRootKeyAsync(Account, Ct));
    }

    [Fact]
    public async Task An_invalid_inline_policy_is_refused_before_it_is_written()
    {
        var user = await identities.CreateUserAsync(Account, "bob", Ct);
        await Assert.ThrowsAsync<PolicyFormatException>(() => identities.PutInlinePolicyAsync(user!.Arn, "p", Allow.Replace("Allow", "Maybe", StringComparison.Ordinal), Ct));
        Assert.Empty((await store.Identities.GetPoliciesAsync(user!.Arn, Ct)).Inline);
        Assert.True(await identities.PutInlinePolicyAsync(user.Arn, "p", Allow, Ct));
        Assert.Equal(Allow, Assert.Single((await store.Identities.GetPoliciesAsync(user.Arn, Ct)).Inline).Document);
        Assert.False(await identities.PutInlinePolicyAsync($"arn:aws:iam::{Account}:user/nobody", "p", Allow, Ct));
    }
}
