using Wharf.Server.Hosting;

namespace Wharf.Server;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var app = WharfHost.CreateApp(args);
        await WharfHost.StartAsync(app, CancellationToken.None);
        await app.WaitForShutdownAsync();
        return 0;
    }
}
