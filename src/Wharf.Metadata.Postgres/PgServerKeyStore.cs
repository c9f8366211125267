using Wharf.Core.Metadata;

namespace Wharf.Metadata.Postgres;

internal sealed class PgServerKeyStore(PgDatabase database) : IServerKeyStore
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
}
