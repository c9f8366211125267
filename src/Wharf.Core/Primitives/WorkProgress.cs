namespace Wharf.Core.Primitives;

/// <summary>
/// How far a long piece of work has come, for a progress bar or a log line: the phase it is in, the
/// items done in that phase, and how many there are when known (null: the phase's size is not known
/// in advance, e.g. a listing still being read). Long services take an optional
/// <see cref="IProgress{T}"/> of these and report after each item; reporting must be cheap, the
/// reporter decides how often it draws.
/// </summary>
public readonly record struct WorkProgress(string Phase, long Done, long? Total = null);
