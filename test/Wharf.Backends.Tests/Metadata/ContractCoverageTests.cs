using System.Reflection;
using Wharf.Core.Metadata;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// The contract suite covers every public method of every store interface: each is named by a
/// <see cref="CoversAttribute"/> on a test of <see cref="MetadataStoreContract"/>, which every engine runs.
/// A method added to a store without a contract test fails here.
/// </summary>
public sealed class ContractCoverageTests
{
    /// <summary>
    /// Methods left to the event log's own contract suite (issue 13 moves the outbox and the consumer
    /// cursors behind one event-log interface). Delete each line when its method leaves the store.
    /// </summary>
    private static readonly HashSet<string> Excluded =
    [
        "ILifecycleStore.ListEventsAsync(3)",
        "IScanStore.GetCursorAsync(2)",
        "IScanStore.SetCursorAsync(3)",

        // Exists only to record an event with the deletion; the deletion itself is what the tests of
        // the three-parameter overload cover (it calls this one without an event).
        "IImageStore.DeleteManifestAsync(4)",
    ];

    [Fact]
    public void Every_public_method_of_every_store_interface_is_covered_by_a_contract_test()
    {
        var covered = CoveredMethods().Select(c => c.Method).ToHashSet();

        var uncovered = StoreMethods().Select(Name).Where(name => !covered.Contains(name) && !Excluded.Contains(name)).Order(StringComparer.Ordinal).ToList();

        Assert.True(uncovered.Count == 0, "No contract test ([Covers] on a MetadataStoreContract test) covers: " + string.Join(", ", uncovered));
    }

    [Fact]
    public void Every_Covers_attribute_names_one_store_method_and_marks_a_contract_test_that_every_engine_runs()
    {
        var problems = CoveredMethods().Where(c => c.Problem is not null).Select(c => $"{c.Test}: {c.Problem}").ToList();

        // [Covers] outside the contract (on one engine's tests) would count a test that runs on one engine only.
        problems.AddRange(typeof(ContractCoverageTests).Assembly.GetTypes()
            .Where(t => t != typeof(MetadataStoreContract))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.IsDefined(typeof(CoversAttribute)))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}: [Covers] belongs on MetadataStoreContract tests, which every engine runs"));
        var names = StoreMethods().Select(Name).ToList();
        problems.AddRange(names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => $"{g.Key} names overloads of one parameter count: CoversAttribute must tell them apart another way"));
        problems.AddRange(Excluded.Where(e => !names.Contains(e)).Select(e => $"excluded {e} is no longer a store method: remove it from the list"));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Contains(typeof(SqliteMetadataStoreTests), Engines());
        Assert.Contains(typeof(PostgresMetadataStoreTests), Engines());
    }

    /// <summary><c>IMetadataStore</c> and every store it exposes; their methods (property accessors aside).</summary>
    private static IEnumerable<MethodInfo> StoreMethods() =>
        new[] { typeof(IMetadataStore) }
            .Concat(typeof(IMetadataStore).GetProperties().Select(p => p.PropertyType).Where(t => t.IsInterface))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => !m.IsSpecialName);

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.Name}.{method.Name}({method.GetParameters().Length})";

    private static IEnumerable<Type> Engines() =>
        typeof(ContractCoverageTests).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(MetadataStoreContract)));

    private static IEnumerable<(string Test, string? Method, string? Problem)> CoveredMethods()
    {
        var storeMethods = StoreMethods().ToList();
        foreach (var test in typeof(MetadataStoreContract).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
        {
            foreach (var covers in test.GetCustomAttributes<CoversAttribute>())
            {
                var overloads = storeMethods.Where(m => m.DeclaringType == covers.Store && m.Name == covers.Method).ToList();
                var chosen = covers.Parameters == 0 ? overloads : overloads.Where(m => m.GetParameters().Length == covers.Parameters).ToList();
                var problem =
                    !test.IsDefined(typeof(FactAttribute)) ? "it is not a test"
                    : overloads.Count == 0 ? $"{covers.Store.Name}.{covers.Method} is not a store method"
                    : chosen.Count > 1 ? $"{covers.Store.Name}.{covers.Method} is overloaded: name the overload with Parameters ="
                    : chosen.Count == 0 ? $"{covers.Store.Name}.{covers.Method} has no overload of {covers.Parameters} parameters"
                    : null;
                yield return (test.Name, problem is null ? Name(chosen[0]) : null, problem);
            }
        }
    }
}
