namespace Wharf.Server.Registries;

/// <summary>
/// The one HTTP client of other registries (replication's remote regions, the pull-through cache's upstreams):
/// connections pooled and renewed (a remote's address may move), a connect timeout, no redirects followed with
/// credentials (a caller that follows one decides what it sends there), each request's own timeout set by its caller.
/// </summary>
internal sealed class RemoteHttp : IDisposable
{
    public HttpClient Client { get; } = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public void Dispose() => Client.Dispose();
}
