using Wharf.Core.Primitives;
using Wharf.Metadata.Sqlite;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Cli;

/// <summary><c>wharf admin public-registry</c>, run as the real program over a real data directory.</summary>
public sealed class PublicRegistryCommandTests
{
    [Fact]
    public async Task Public_registry_sets_a_unique_primary_alias_and_verified_and_prints_the_registry()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wharf-public-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using (var created = new SqliteMetadataStore(Path.Combine(dir, "wharf.db")))
            {
                await created.MigrateAsync(CancellationToken.None);
            }

            var none = await WharfAsync("admin", "public-registry", "--account", "111111111111", "--data-dir", dir);
            Assert.Equal(1, none.ExitCode);
            Assert.Contains("account 111111111111 has no public registry yet", none.StandardError, StringComparison.Ordinal);

            var set = (await WharfAsync("admin", "public-registry", "--account", "111111111111", "--alias", "acme", "--verified", "true", "--data-dir", dir)).EnsureSuccess().StandardOutput;
            var lines = set.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal("account: 111111111111", lines[0]);
            Assert.Contains("alias: acme (primary)", lines);
            var defaultAlias = Assert.Single(lines, l => l.EndsWith("(default)", StringComparison.Ordinal));
            Assert.Matches("^alias: [a-z][a-z0-9]{7} \\(default\\)$", defaultAlias);
            Assert.Contains("verified: true", lines);

            // Another account cannot take it; a bad name is refused with the rule.
            var taken = await WharfAsync("admin", "public-registry", "--account", "222222222222", "--alias", "acme", "--data-dir", dir);
            Assert.Equal(1, taken.ExitCode);
            Assert.Equal("wharf: the alias 'acme' belongs to another account's public registry; choose another", taken.StandardError.TrimEnd());
            var bad = await WharfAsync("admin", "public-registry", "--account", "222222222222", "--alias", "Acme!", "--data-dir", dir);
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("is not a registry alias", bad.StandardError, StringComparison.Ordinal);

            var shown = (await WharfAsync("admin", "public-registry", "--account", "111111111111", "--verified", "false", "--data-dir", dir)).EnsureSuccess().StandardOutput;
            Assert.Contains("alias: acme (primary)", shown, StringComparison.Ordinal);
            Assert.Contains("verified: false", shown, StringComparison.Ordinal);

            await using var store = new SqliteMetadataStore(Path.Combine(dir, "wharf.db"));
            Assert.Equal(AccountId.Parse("111111111111"), await store.Public.ResolveAliasAsync("acme", CancellationToken.None));
            Assert.Null(await store.Public.GetRegistryAsync(AccountId.Parse("222222222222"), CancellationToken.None));

            var help = (await WharfAsync("admin", "public-registry", "--help")).EnsureSuccess().StandardOutput;
            foreach (var expected in new[] { "--account", "--alias", "--verified <true|false>", "default alias stays", "unique across accounts" })
            {
                Assert.Contains(expected, help, StringComparison.Ordinal);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Task<ProcessResult> WharfAsync(params string[] args) =>
        WharfCommand.RunAsync([.. args], TimeSpan.FromSeconds(60));
}
