namespace Wharf.Server.Tests.Infrastructure;

/// <summary>A test class with its own server (real Kestrel, throwaway data) and a client for it.</summary>
public abstract class ServerTest : IAsyncLifetime
{
    protected WharfTestServer Server { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await WharfTestServer.StartAsync();
        Client = Server.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
