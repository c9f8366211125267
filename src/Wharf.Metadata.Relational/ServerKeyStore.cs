using Wharf.Core.Metadata;

namespace Wharf.Metadata.Relational;

internal sealed class ServerKeyStore(Database database) : IServerKeyStore
{
    public Task<byte[]> GetOrCreateAsync(string name, byte[] candidate, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s =>
            {
                await s.ExecuteAsync(
                    "INSERT INTO server_keys (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
                    [("name", name), ("value", candidate), ("now", Columns.Ms(now))],
                    cancellationToken);
                return await s.SingleAsync("SELECT value FROM server_keys WHERE name = @name", r => (byte[])r.GetValue(0), [("name", name)], cancellationToken)
                    ?? throw new InvalidOperationException($"Server key '{name}' vanished inside its creating transaction.");
            },
            cancellationToken);

    public Task<IReadOnlyList<(string Name, byte[] Value)>> ListAsync(string prefix, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<(string Name, byte[] Value)>>(
            async s => await s.ListAsync(
                "SELECT name, value FROM server_keys WHERE substr(name, 1, length(@prefix)) = @prefix ORDER BY name",
                r => (r.GetString(0), (byte[])r.GetValue(1)),
                [("prefix", prefix)],
                cancellationToken),
            cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async s => await s.ExecuteAsync("DELETE FROM server_keys WHERE name = @name", [("name", name)], cancellationToken) > 0,
            cancellationToken);
}
