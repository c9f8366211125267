using Microsoft.Playwright;
using Wharf.Testing;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright (its NuGet package's own driver, offline), one browser for the
/// class. Null when Chromium is missing: each test then skips locally and fails in CI.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string Executable = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser? Browser { get; private set; }

    /// <summary>Where the screenshots go: a stable folder under the test output, kept after the run as the tests' artifacts.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "gallery-screenshots");

    /// <summary>Where the console's screenshots go (<see cref="ConsoleBrowser.CaptureAsync"/>): every page, light and dark, desktop and phone.</summary>
    public static string ConsoleScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "console-screenshots");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            return;
        }

        playwright = await Playwright.CreateAsync();

        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Executable, Headless = true, Args = ["--no-sandbox"] });
        Directory.CreateDirectory(ScreenshotDirectory);
        Directory.CreateDirectory(ConsoleScreenshotDirectory);
    }

    public IBrowser Require() =>
        Browser ?? (Requires.InCi || File.Exists(Executable)
            ? throw new InvalidOperationException("Chromium did not start")
            : Skip());

    private static IBrowser Skip()
    {
        Requires.Missing($"Chromium is not installed at {Executable} (.ci/run installs Debian's chromium)");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();
    }
}
