using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The console's login profiles and sessions: one profile per principal, sessions by cookie hash, and both gone with their principal.</summary>
public abstract partial class MetadataStoreContract
{
    private static async Task<string> LoginUserAsync(IMetadataStore store, string name)
    {
        await store.Identities.EnsureAccountAsync(Account, T0, Ct);
        var user = await store.Identities.CreateUserAsync(Account, name, "AIDA" + name.ToUpperInvariant().PadRight(17, 'X'), T0, Ct);
        return user!.Arn;
    }

    private static ConsoleSessionRecord ConsoleSession(string id, string arn, ConsoleSignInMethod method = ConsoleSignInMethod.Password, DateTimeOffset? created = null, DateTimeOffset? seen = null) =>
        new(id, arn, method, method == ConsoleSignInMethod.AccessKey ? "AKIAEXAMPLE" : null, created ?? T0, seen ?? created ?? T0);

    [Fact]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.CreateLoginProfileAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.GetLoginProfileAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.UpdateLoginProfileAsync))]
    public async Task A_principal_has_at_most_one_login_profile_and_only_while_it_exists()
    {
        await using var store = await CreateStoreAsync();
        var arn = await LoginUserAsync(store, "alice");
        var profile = new LoginProfileRecord(arn, "pbkdf2-sha256$1$c2FsdA==$aGFzaA==", true, T0);
        Assert.True(await store.Logins.CreateLoginProfileAsync(profile, Ct));
        Assert.False(await store.Logins.CreateLoginProfileAsync(profile with { PasswordHash = "other" }, Ct));
        Assert.Equal(profile, await store.Logins.GetLoginProfileAsync(arn, Ct));
        Assert.False(await store.Logins.CreateLoginProfileAsync(profile with { PrincipalArn = $"arn:aws:iam::{Account}:user/nobody" }, Ct));
        Assert.Null(await store.Logins.GetLoginProfileAsync($"arn:aws:iam::{Account}:user/nobody", Ct));

        Assert.True(await store.Logins.UpdateLoginProfileAsync(profile with { PasswordHash = "new", PasswordResetRequired = false, CreatedAt = T0.AddDays(1) }, Ct));
        Assert.Equal(profile with { PasswordHash = "new", PasswordResetRequired = false }, await store.Logins.GetLoginProfileAsync(arn, Ct));
        Assert.False(await store.Logins.UpdateLoginProfileAsync(profile with { PrincipalArn = $"arn:aws:iam::{Account}:user/nobody" }, Ct));

        var root = $"arn:aws:iam::{Account}:root";
        Assert.True(await store.Logins.CreateLoginProfileAsync(profile with { PrincipalArn = root }, Ct));
        Assert.Equal(root, (await store.Logins.GetLoginProfileAsync(root, Ct))!.PrincipalArn);
    }

    [Fact]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.DeleteLoginProfileAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.CreateSessionAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.GetSessionAsync))]
    public async Task Deleting_a_login_profile_ends_the_principals_password_sessions_but_not_its_access_key_sessions()
    {
        await using var store = await CreateStoreAsync();
        var arn = await LoginUserAsync(store, "alice");
        var other = await LoginUserAsync(store, "bob");
        await store.Logins.CreateLoginProfileAsync(new LoginProfileRecord(arn, "h", false, T0), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("p1", arn), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("k1", arn, ConsoleSignInMethod.AccessKey, T0, T0.AddMinutes(5)), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("b1", other), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("x1", $"arn:aws:iam::{Account}:user/nobody"), Ct);

        Assert.Equal(ConsoleSession("k1", arn, ConsoleSignInMethod.AccessKey, T0, T0.AddMinutes(5)), await store.Logins.GetSessionAsync("k1", Ct));
        Assert.Null(await store.Logins.GetSessionAsync("x1", Ct));

        Assert.True(await store.Logins.DeleteLoginProfileAsync(arn, Ct));
        Assert.False(await store.Logins.DeleteLoginProfileAsync(arn, Ct));
        Assert.Null(await store.Logins.GetLoginProfileAsync(arn, Ct));
        Assert.Null(await store.Logins.GetSessionAsync("p1", Ct));
        Assert.NotNull(await store.Logins.GetSessionAsync("k1", Ct));
        Assert.NotNull(await store.Logins.GetSessionAsync("b1", Ct));
    }

    [Fact]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.TouchSessionAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.DeleteSessionAsync))]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.DeleteSessionsAsync))]
    public async Task Sessions_are_touched_forward_only_and_end_one_at_a_time_or_all_of_a_principal()
    {
        await using var store = await CreateStoreAsync();
        var arn = await LoginUserAsync(store, "alice");
        var other = await LoginUserAsync(store, "bob");
        foreach (var id in new[] { "a", "b", "c" })
        {
            await store.Logins.CreateSessionAsync(ConsoleSession(id, arn), Ct);
        }

        await store.Logins.CreateSessionAsync(ConsoleSession("d", other), Ct);

        Assert.True(await store.Logins.TouchSessionAsync("a", T0.AddMinutes(10), Ct));
        Assert.True(await store.Logins.TouchSessionAsync("a", T0.AddMinutes(5), Ct));
        Assert.Equal(T0.AddMinutes(10), (await store.Logins.GetSessionAsync("a", Ct))!.LastSeenAt);
        Assert.False(await store.Logins.TouchSessionAsync("zz", T0, Ct));

        Assert.True(await store.Logins.DeleteSessionAsync("a", Ct));
        Assert.False(await store.Logins.DeleteSessionAsync("a", Ct));
        Assert.Equal(2, await store.Logins.DeleteSessionsAsync(arn, Ct));
        Assert.Equal(0, await store.Logins.DeleteSessionsAsync(arn, Ct));
        Assert.NotNull(await store.Logins.GetSessionAsync("d", Ct));
    }

    [Fact]
    [Covers(typeof(ILoginStore), nameof(ILoginStore.DeleteExpiredSessionsAsync))]
    public async Task Expired_sessions_are_pruned_by_idle_time_or_age()
    {
        await using var store = await CreateStoreAsync();
        var arn = await LoginUserAsync(store, "alice");
        await store.Logins.CreateSessionAsync(ConsoleSession("idle", arn, created: T0.AddHours(1), seen: T0.AddHours(1)), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("old", arn, created: T0, seen: T0.AddHours(3)), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("fresh", arn, created: T0.AddHours(1), seen: T0.AddHours(3)), Ct);

        Assert.Equal(2, await store.Logins.DeleteExpiredSessionsAsync(T0.AddHours(2), T0.AddMinutes(30), Ct));
        Assert.NotNull(await store.Logins.GetSessionAsync("fresh", Ct));
        Assert.Equal(0, await store.Logins.DeleteExpiredSessionsAsync(T0.AddHours(2), T0.AddMinutes(30), Ct));
    }

    [Fact]
    public async Task Deleting_a_principal_deletes_its_login_profile_and_sessions()
    {
        await using var store = await CreateStoreAsync();
        var arn = await LoginUserAsync(store, "alice");
        await store.Logins.CreateLoginProfileAsync(new LoginProfileRecord(arn, "h", false, T0), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("a", arn), Ct);
        await store.Logins.CreateSessionAsync(ConsoleSession("k", arn, ConsoleSignInMethod.AccessKey), Ct);

        Assert.True(await store.Identities.DeletePrincipalAsync(arn, Ct));
        Assert.Null(await store.Logins.GetLoginProfileAsync(arn, Ct));
        Assert.Null(await store.Logins.GetSessionAsync("a", Ct));
        Assert.Null(await store.Logins.GetSessionAsync("k", Ct));

        // A user made again under the name has no password and no session.
        var again = await LoginUserAsync(store, "alice");
        Assert.Null(await store.Logins.GetLoginProfileAsync(again, Ct));
    }
}
