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
        IConfiguration? configuration = null;
        try
        {
            var flags = CliOptions.ToSettings(parse);
            (builder, options) = WharfHost.CreateBuilder(
                [],
                sources =>
                {
                    sources.AddInMemoryCollection(flags);
                    configuration = sources as IConfiguration;
                },
                configFile);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            WharfCli.Fail(DescribeSettingsError(e, configuration));
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
    /// The configuration binder says "Failed to convert configuration value at 'Key' to type 'T'" (the source-generated
    /// binder, which Native AOT needs, leaves the value out; the reflection-based one gave it before "at");
    /// say instead which setting is wrong, what it accepts, and where it can be fixed.
    /// </summary>
    private static string DescribeSettingsError(Exception e, IConfiguration? configuration)
    {
        if (ConversionFailure().Match(e.Message) is { Success: true } match)
        {
            var key = match.Groups["key"].Value;
            var typeName = match.Groups["type"].Value;
            var type = Array.Find(SettingTypes, t => t.FullName == typeName);
            var expected = type switch
            {
                _ when type == typeof(AuthMode) => OneOf<AuthMode>(),
                _ when type == typeof(MetadataBackend) => OneOf<MetadataBackend>(),
                _ when type == typeof(StorageBackend) => OneOf<StorageBackend>(),
                _ when type == typeof(LogFormat) => OneOf<LogFormat>(),
                _ when type == typeof(TimeSpan) => "a duration such as 00:30:00 (hh:mm:ss) or 1.00:00:00 (one day)",
                _ when type == typeof(bool) => "true or false",
                _ when type == typeof(int) => "a whole number",
                _ => $"a value of type {type?.Name ?? typeName[(typeName.LastIndexOf('.') + 1)..]}",
            };
            var value = match.Groups["value"].Success ? match.Groups["value"].Value : configuration?[key];
            return $"setting {key} is '{value}', expected {expected}; fix it in the flag, in WHARF__{key.Replace(":", "__", StringComparison.Ordinal)} or in the settings file";
        }

        return $"invalid settings: {WharfCli.OneLine(e)}";
    }

    // The types a setting can fail to convert to, looked up by the name the binder gives (no reflection by name:
    // Native AOT trims what nothing references).
    private static readonly Type[] SettingTypes =
        [typeof(AuthMode), typeof(MetadataBackend), typeof(StorageBackend), typeof(LogFormat), typeof(TimeSpan), typeof(bool), typeof(int)];

    private static string OneOf<T>()
        where T : struct, Enum => "one of " + string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));

    [GeneratedRegex("^Failed to convert configuration value (?:'(?<value>.*)' )?at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
