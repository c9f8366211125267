using System.CommandLine;
using System.Text.RegularExpressions;
using Wharf.Server.Hosting;

namespace Wharf.Server.Cli;

/// <summary>
/// Builds the application for a command from the flags, after validating the settings as bound
/// (<see cref="StartupValidator"/>) — before any backend is constructed, so a bad setting costs
/// nothing but one line.
/// </summary>
internal static partial class CliHost
{
    // precondition: a command's own demand on the settings (a problem, or null), checked before the
    // general validation so that its message comes first.
    public static async Task<WebApplication?> BuildAsync(ParseResult parse, bool listening, CancellationToken cancellationToken, Func<WharfOptions, string?>? precondition = null)
    {
        var configFile = parse.GetValue(CliOptions.Config);
        if (configFile is not null && !File.Exists(configFile))
        {
            WharfCli.Fail($"settings file '{configFile}' does not exist; pass --config with a JSON file");
            return null;
        }

        WebApplicationBuilder builder;
        WharfOptions options;
        try
        {
            var flags = CliOptions.ToSettings(parse);
            (builder, options) = WharfHost.CreateBuilder([], sources => sources.AddInMemoryCollection(flags), configFile);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            WharfCli.Fail(DescribeSettingsError(e));
            return null;
        }

        if (precondition?.Invoke(options) is { } unmet)
        {
            WharfCli.Fail(unmet);
            return null;
        }

        if (await StartupValidator.ValidateAsync(options, listening, cancellationToken) is { } problem)
        {
            WharfCli.Fail(problem);
            return null;
        }

        return WharfHost.Build(builder, options);
    }

    /// <summary>
    /// The configuration binder says "Failed to convert configuration value 'x' at 'Key' to type 'T'";
    /// say instead which setting is wrong, what it accepts, and where it can be fixed.
    /// </summary>
    private static string DescribeSettingsError(Exception e)
    {
        if (ConversionFailure().Match(e.Message) is { Success: true } match)
        {
            var key = match.Groups["key"].Value;
            var type = typeof(WharfOptions).Assembly.GetType(match.Groups["type"].Value) ?? Type.GetType(match.Groups["type"].Value);
            var expected = type switch
            {
                { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant())),
                _ when type == typeof(TimeSpan) => "a duration such as 00:30:00 (hh:mm:ss) or 1.00:00:00 (one day)",
                _ when type == typeof(bool) => "true or false",
                _ when type == typeof(int) => "a whole number",
                _ => $"a value of type {type?.Name ?? match.Groups["type"].Value}",
            };
            return $"setting {key} is '{match.Groups["value"].Value}', expected {expected}; fix it in the flag, in WHARF__{key.Replace(":", "__", StringComparison.Ordinal)} or in the settings file";
        }

        return $"invalid settings: {WharfCli.OneLine(e)}";
    }

    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
