using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Wharf.Core.Metadata;

namespace Wharf.Core.Security;

/// <summary>
/// The bound on what IAM mode's caches may serve (docs/identity.md "Caches and their bounds"): a verified
/// <c>/v2</c> password with the principal and key it names, and a principal's parsed identity policies.
/// A write to identities on this node (through <see cref="Watch"/>) bumps <see cref="Generation"/>, which
/// drops every entry at once; a write on another node, or by <c>wharf admin</c> in another process, is
/// seen once an entry is <see cref="MaxAge"/> old, when it is read again from the store.
/// </summary>
public sealed class IdentityChanges
{
    /// <summary>How long a cached identity fact is served without reading the store again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private long generation;

    /// <summary>Changes with every identity write on this node; an entry filled under another generation is stale.</summary>
    public long Generation => Volatile.Read(ref generation);

    /// <summary>Marks every cached identity fact stale.</summary>
    public void Changed() => Interlocked.Increment(ref generation);

    /// <summary>
    /// <paramref name="store"/>, with every write (any method not named <c>Get…</c>, <c>List…</c> or
    /// <c>Count…</c>) followed by <see cref="Changed"/> once it has completed, failed or not: a cache
    /// filled after the write sees it.
    /// </summary>
    public IIdentityStore Watch(IIdentityStore store)
    {
        var proxy = DispatchProxy.Create<IIdentityStore, WritesProxy>();
        var writes = (WritesProxy)(object)proxy;
        writes.Inner = store;
        writes.Changes = this;
        return proxy;
    }

#pragma warning disable CA1852 // DispatchProxy derives from it at run time
    internal class WritesProxy : DispatchProxy
#pragma warning restore CA1852
    {
        private static readonly ConcurrentDictionary<Type, MethodInfo> AfterOf = new();

        internal IIdentityStore Inner { get; set; } = null!;

        internal IdentityChanges Changes { get; set; } = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            object? result;
            try
            {
                result = targetMethod.Invoke(Inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                Changes.Changed();
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }

            var name = targetMethod.Name;
            if (name.StartsWith("Get", StringComparison.Ordinal) || name.StartsWith("List", StringComparison.Ordinal) || name.StartsWith("Count", StringComparison.Ordinal))
            {
                return result;
            }

            Changes.Changed(); // also before completion: a write already visible to readers is never served stale for long
            return result switch
            {
                Task task when targetMethod.ReturnType.IsGenericType => AfterOf.GetOrAdd(targetMethod.ReturnType.GetGenericArguments()[0], t => typeof(WritesProxy).GetMethod(nameof(AfterWithResultAsync), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t))
                    .Invoke(null, [task, Changes]),
                Task task => AfterAsync(task, Changes),
                _ => result,
            };
        }

        private static async Task AfterAsync(Task task, IdentityChanges changes)
        {
            try
            {
                await task;
            }
            finally
            {
                changes.Changed();
            }
        }

        private static async Task<T> AfterWithResultAsync<T>(Task<T> task, IdentityChanges changes)
        {
            try
            {
                return await task;
            }
            finally
            {
                changes.Changed();
            }
        }
    }
}
