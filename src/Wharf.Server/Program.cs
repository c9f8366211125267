using Wharf.Server.Cli;

namespace Wharf.Server;

internal static class Program
{
    public static Task<int> Main(string[] args) => WharfCli.RunAsync(args);
}
