using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>A logger provider that keeps every message, to assert what the server logs and what it never does.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, int EventId, string Message)> entries = new();

    public IReadOnlyList<(string Category, LogLevel Level, int EventId, string Message)> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.entries.Enqueue((category, logLevel, eventId.Id, formatter(state, exception) + (exception is null ? string.Empty : "\n" + exception)));
    }
}
