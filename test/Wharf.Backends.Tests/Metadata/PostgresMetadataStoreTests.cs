using Npgsql;
using Wharf.Core.Events;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Metadata.Postgres;
using Wharf.Testing;

namespace Wharf.Backends.Tests.Metadata;

/// <summary>The contract on PostgreSQL: a throwaway cluster for the run, a fresh database per test.</summary>
public sealed partial class PostgresMetadataStoreTests : MetadataStoreContract
{
    private string? _connectionString;

    private protected override bool IdsCommitInOrder => false;

    private protected override TimeSpan OtherStoreBound => PgChangeWatch.DefaultBound;

    private protected override async Task<IMetadataStore> OpenAgainAsync()
    {
        var store = new PostgresMetadataStore(_connectionString!);
        await store.MigrateAsync(Ct);
        return store;
    }

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        var cluster = await PostgresCluster.GetAsync();
        _connectionString = await cluster.CreateDatabaseAsync(Ct);
        var store = new PostgresMetadataStore(_connectionString);
        await store.MigrateAsync(Ct);
        return store;
    }

    private protected override async Task<OpenEventWrite> BeginEventWriteAsync(IMetadataStore store, OutboxEvent evt)
    {
        var dataSource = NpgsqlDataSource.Create(_connectionString!);
        return await OpenEventWrite.BeginAsync(new PgDialect(dataSource), evt, dataSource, Ct);
    }

    [Fact]
    public async Task Two_nodes_migrating_one_database_at_once_both_succeed_and_apply_it_once()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync(Ct);
        await using var first = new PostgresMetadataStore(connectionString);
        await using var second = new PostgresMetadataStore(connectionString);

        await Task.WhenAll(first.MigrateAsync(Ct), second.MigrateAsync(Ct), first.MigrateAsync(Ct));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
        var migrations = typeof(PostgresMetadataStore).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));
        Assert.Equal((long)migrations, await command.ExecuteScalarAsync(Ct));
        Assert.NotNull(await second.Repositories.CreateAsync(RepoKey("team/app"), T0, Ct));
    }

    /// <summary>
    /// A manifest PUT's transaction runs on generic plans (PgReferenceCheck: its insert was otherwise planned again on
    /// every PUT, since its generic plan, priced for ten digests, costs more than a custom plan for two), and the
    /// setting ends with the transaction: the connection's next statements are planned as PostgreSQL chooses.
    /// </summary>
    [Fact]
    public async Task A_manifest_put_plans_its_insert_once_and_keeps_generic_plans_to_its_transaction()
    {
        var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(Ct);

        // One connection (no warm pool under its size), so every PUT runs where the test then looks.
        await using var store = new PostgresMetadataStore(connectionString + ";Maximum Pool Size=1", TimeProvider.System, readCache: false);
        await store.MigrateAsync(Ct);
        var repo = await CreateRepoAsync(store);
        var config = await UploadBlobAsync(store, repo.Id, "config");
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        for (var i = 0; i < 12; i++)
        {
            await PutAsync(store, Image(repo.Id, $"image-{i}", [config, layer], tag: $"v{i}"));
        }

        var plans = await store.Database.ReadAsync(
            s => s.SingleAsync(
                "SELECT custom_plans, generic_plans, current_setting('plan_cache_mode') FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO manifests %'",
                r => Tuple.Create(r.GetInt64(0), r.GetInt64(1), r.GetString(2)),
                [],
                Ct),
            Ct);
        Assert.NotNull(plans); // prepared on the connection
        var (custom, generic, mode) = plans;
        Assert.Equal(0, custom);
        Assert.True(generic >= 7, $"{generic} executions on the generic plan"); // prepared after its fifth execution
        Assert.Equal("auto", mode);
    }

    /// <summary>
    /// Issue 19's keyset pages on PostgreSQL: a page after a cursor starts at it in an index (Index Cond on the
    /// cursor), the lists are walked in index order (no sort but ListImages' merge of two page-sized halves). The
    /// tables are tiny, so sequential scans are priced out to show which index the planner can use.
    /// </summary>
    [Fact]
    public async Task Keyset_pages_start_at_their_cursor_in_an_index()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var dialect = new PgDialect(dataSource);
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off; ANALYZE", connection))
        {
            await off.ExecuteNonQueryAsync(Ct);
        }

        var digest = Wharf.Core.Primitives.Digest.Sha256Of([1]).ToString();
        var catalog = await ExplainAsync(connection, Wharf.Metadata.Relational.RepositoryStore.ListSql("team/app"), ("account", "123456789012"), ("region", "us-east-1"), ("after", "team/app"), ("limit", 101));
        Assert.Contains("name > ", IndexCondition(catalog), StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", catalog, StringComparison.Ordinal);

        var tags = await ExplainAsync(connection, Wharf.Metadata.Relational.ImageStore.ListTagsSql("v1"), ("repository", 7L), ("last", "v1"), ("limit", 101));
        Assert.Contains("name > ", IndexCondition(tags), StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", tags, StringComparison.Ordinal);

        var describe = await ExplainAsync(connection, Wharf.Metadata.Relational.ImageStore.DescribeImagesSql(dialect, TagStatus.Any, ImageStatusFilter.Active, Wharf.Core.Primitives.Digest.Parse(digest)), ("repository", 7L), ("after", digest), ("limit", 101));
        Assert.Contains("digest > ", IndexCondition(describe), StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", describe, StringComparison.Ordinal);

        var images = await ExplainAsync(connection, Wharf.Metadata.Relational.ImageIdQueries.Page(dialect, TagStatus.Any, ImageStatusFilter.Active, after: true), ("repository", 7L), ("afterDigest", digest), ("afterTag", "v1"), ("limit", 101));
        Assert.Contains("tags_digest_name", images, StringComparison.Ordinal);
        Assert.Contains("ROW(digest, name) > ROW(", images, StringComparison.Ordinal);
        Assert.Contains("digest >= ", IndexCondition(images), StringComparison.Ordinal);

        var imageTags = await ExplainAsync(connection, Wharf.Metadata.Relational.LifecycleStore.TagsOfImageSql, ("repository", 7L), ("digest", digest));
        Assert.Contains("tags_digest_name", imageTags, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", imageTags, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 19, target 5 on PostgreSQL: statements are auto-prepared, and a prepared statement runs on PostgreSQL's
    /// generic plan after five executions, which prices a repository at the table's average (here 2 rows). In a
    /// repository far above the average, each listing statement must still read what its page needs: the tags of a
    /// DescribeImages page (and of its scans, and an index's children) one key lookup per digest, and the untagged
    /// half of a ListImages page one probe of the tags key per image it reads. Run, not only planned: EXPLAIN ANALYZE
    /// counts the rows each step read.
    /// </summary>
    [Fact]
    public async Task Listing_pages_of_a_repository_far_above_the_average_read_only_the_page_on_a_generic_plan()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var dialect = new PgDialect(dataSource);

        // Repository 1 holds 4,000 tagged images, each scanned; 2,000 others one each.
        await using (var fill = new NpgsqlCommand(
            """
            INSERT INTO repositories (id, account, region, name, created_at) OVERRIDING SYSTEM VALUE SELECT i, '123456789012', 'us-east-1', 'r' || lpad(i::text, 5, '0'), 0 FROM generate_series(1, 2001) AS i;
            INSERT INTO manifests (repository_id, digest, media_type, content, pushed_at)
                SELECT CASE WHEN i <= 4000 THEN 1 ELSE i - 3999 END, 'sha256:' || lpad(to_hex(i), 64, '0'), 'application/vnd.oci.image.manifest.v1+json', '\x7b7d', i
                FROM generate_series(1, 6000) AS i;
            INSERT INTO tags (repository_id, name, digest, updated_at) SELECT repository_id, 't' || digest, digest, 0 FROM manifests;
            INSERT INTO image_scans (repository_id, digest, status, requested_at) SELECT repository_id, digest, 'COMPLETE', 0 FROM manifests;
            ANALYZE;
            SET plan_cache_mode = force_generic_plan;
            """,
            connection))
        {
            await fill.ExecuteNonQueryAsync(Ct);
        }

        static string Digest(int i) => "sha256:" + i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);
        var page = Enumerable.Range(1001, 100).Select(Digest).ToArray();

        var tags = await ExplainAnalyzeAsync(connection, Wharf.Metadata.Relational.ImageStore.TagsOfPageSql(dialect), ("repository", "bigint", 1L), ("digests", "text[]", page));
        Assert.Equal(100, RowsOut(tags));
        Assert.True(MostRowsRead(tags) <= 100, tags);

        var scans = await ExplainAnalyzeAsync(connection, dialect.RepositoryRowsIn("image_scans", "digest, status", "digest", "digests"), ("repository", "bigint", 1L), ("digests", "text[]", page));
        Assert.Equal(100, RowsOut(scans));
        Assert.True(MostRowsRead(scans) <= 100, scans);

        // ListImages, a page deep in the repository (every image tagged: the untagged half reads up to the tagged half's last digest).
        var images = await ExplainAnalyzeAsync(
            connection,
            Wharf.Metadata.Relational.ImageIdQueries.Page(dialect, TagStatus.Any, ImageStatusFilter.Any, after: true),
            ("repository", "bigint", 1L), ("afterDigest", "text", Digest(3000)), ("afterTag", "text", "t" + Digest(3000)), ("limit", "bigint", 101L));
        Assert.Equal(101, RowsOut(images));
        Assert.True(MostRowsRead(images) <= 101, images);

        var untagged = await ExplainAnalyzeAsync(
            connection,
            Wharf.Metadata.Relational.ImageStore.DescribeImagesSql(dialect, TagStatus.Untagged, ImageStatusFilter.Any, Wharf.Core.Primitives.Digest.Parse(Digest(3900))),
            ("repository", "bigint", 1L), ("after", "text", Digest(3900)), ("limit", "bigint", 101L));
        Assert.Equal(0, RowsOut(untagged));
        Assert.True(MostRowsRead(untagged) <= 100, untagged);

        // A lifecycle evaluation's pages, in both orders, deep in the repository: its images, then their tags.
        foreach (var (order, cursor, last) in new[] { (LifecycleImageOrder.YoungestFirst, 3000, 2900), (LifecycleImageOrder.OldestPushedFirst, 1000, 1100) })
        {
            var lifecycleImages = await ExplainAnalyzeAsync(
                connection,
                Wharf.Metadata.Relational.LifecycleStore.ImagesPageSql(order, hasCursor: true),
                ("repository", "bigint", 1L), ("limit", "bigint", 100L), ("at", "bigint", (long)cursor), ("digest", "text", Digest(cursor)));
            Assert.Equal(100, RowsOut(lifecycleImages));
            Assert.True(MostRowsRead(lifecycleImages) <= 100, lifecycleImages);

            var lifecycleTags = await ExplainAnalyzeAsync(
                connection,
                Wharf.Metadata.Relational.LifecycleStore.TagsPageSql(order, hasCursor: true),
                ("repository", "bigint", 1L), ("at", "bigint", (long)cursor), ("digest", "text", Digest(cursor)), ("lastAt", "bigint", (long)last), ("lastDigest", "text", Digest(last)));
            Assert.Equal(100, RowsOut(lifecycleTags));
            Assert.True(MostRowsRead(lifecycleTags) <= 100, lifecycleTags);
        }

        // The console's image list, a page deep in the repository, tagged images only.
        var (browseSql, browseParameters) = Wharf.Metadata.Relational.ImageStore.BrowseImagesQuery(
            dialect, 1, new ImageBrowse(TagStatus.Tagged, null, ImageStatusFilter.Any, new ImageCursor(DateTimeOffset.FromUnixTimeMilliseconds(3000), Wharf.Core.Primitives.Digest.Parse(Digest(3000))), 51));
        var browse = await ExplainAnalyzeAsync(
            connection,
            browseSql,
            Typed(browseParameters));
        Assert.Equal(51, RowsOut(browse));
        Assert.True(MostRowsRead(browse) <= 51, browse);

        // The console's repository list by creation time, newest first, a page deep in the registry's 2,001.
        var (repositoriesSql, repositoriesParameters) = Wharf.Metadata.Relational.RepositoryStore.BrowseQuery(
            new RegistryKey(AccountId.Parse("123456789012"), "us-east-1"),
            new RepositoryBrowse(null, RepositorySort.Created, Descending: true, new RepositoryCursor("r01000", DateTimeOffset.UnixEpoch, 1000), 51));
        var repositories = await ExplainAnalyzeAsync(
            connection,
            repositoriesSql,
            Typed(repositoriesParameters));
        Assert.Equal(51, RowsOut(repositories));
        Assert.True(MostRowsRead(repositories) <= 51, repositories);
    }

    // A store's parameters with the types PREPARE needs (its values are text or integers).
    private static (string Name, string Type, object Value)[] Typed(IEnumerable<(string Name, object? Value)> parameters) =>
        [.. parameters.Select(p => p.Value is string text
            ? (p.Name, "text", (object)text)
            : (p.Name, "bigint", Convert.ToInt64(p.Value, System.Globalization.CultureInfo.InvariantCulture)))];

    // A fresh database of the run's cluster with Wharf's schema (the plan tests read statements against it).
    private static async Task<string> MigratedDatabaseAsync()
    {
        var connectionString = await (await PostgresCluster.GetAsync()).CreateDatabaseAsync(Ct);
        await using var store = new PostgresMetadataStore(connectionString);
        await store.MigrateAsync(Ct);
        return connectionString;
    }

    // EXPLAIN ANALYZE of the statement's generic plan: prepared by name (the store's parameters numbered in the order
    // given, with their types), then executed with plan_cache_mode forced to the generic plan (the connection's
    // setting), as an auto-prepared statement runs after its fifth execution. (An unnamed statement, as EXPLAIN with
    // bound parameters sends, is always planned for its values.)
    private static async Task<string> ExplainAnalyzeAsync(NpgsqlConnection connection, string sql, params (string Name, string Type, object Value)[] parameters)
    {
        var numbered = System.Text.RegularExpressions.Regex.Replace(
            sql, @"@(\w+)", m => "$" + (Array.FindIndex(parameters, p => p.Name == m.Groups[1].Value) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var name = "generic_" + Guid.NewGuid().ToString("N");
        await using (var prepare = new NpgsqlCommand($"PREPARE {name}({string.Join(", ", parameters.Select(p => p.Type))}) AS {numbered}", connection))
        {
            await prepare.ExecuteNonQueryAsync(Ct);
        }

        // A utility statement takes no bound parameters: the values are written as literals (the test's own).
        static string Literal(object value) => value switch
        {
            long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
            string[] list => "ARRAY[" + string.Join(", ", list.Select(Literal)) + "]::text[]",
            _ => throw new ArgumentException($"no literal for {value.GetType()}", nameof(value)),
        };
        await using var command = new NpgsqlCommand(
            $"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE {name}({string.Join(", ", parameters.Select(p => Literal(p.Value)))})", connection);

        var plan = await PlanTextAsync(command);
        Assert.True(plan.Contains("$1", StringComparison.Ordinal), plan); // a generic plan: the values are not in it
        return plan;
    }

    // The rows the plan's top node returned, and the most rows any one step read in all its loops (returned, plus
    // those its filters removed): a step reading the repository's every row shows thousands.
    private static int RowsOut(string plan) => StepRows(plan.Split('\n')[0]);

    private static int MostRowsRead(string plan)
    {
        var most = 0;
        var lines = plan.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var read = StepRows(lines[i]);
            for (var j = i + 1; j < lines.Length && !lines[j].Contains("->", StringComparison.Ordinal); j++)
            {
                var removed = System.Text.RegularExpressions.Regex.Match(lines[j], @"Rows Removed by (?:Filter|Join Filter|Index Recheck): (\d+)");
                if (removed.Success)
                {
                    read += int.Parse(removed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * Loops(lines[i]);
                }
            }

            most = Math.Max(most, read);
        }

        return most;
    }

    private static int StepRows(string line)
    {
        var found = System.Text.RegularExpressions.Regex.Match(line, @"rows=(\d+) loops=(\d+)");
        return found.Success ? int.Parse(found.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * int.Parse(found.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private static int Loops(string line)
    {
        var found = System.Text.RegularExpressions.Regex.Match(line, @"loops=(\d+)");
        return found.Success ? int.Parse(found.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;
    }

    // An EXPLAIN's output, one line per row.
    private static async Task<string> PlanTextAsync(NpgsqlCommand explain)
    {
        var lines = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }

    private static async Task<string> ExplainAsync(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = await PlanTextAsync(command);
        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
        return plan;
    }

    private static string IndexCondition(string plan) =>
        string.Join('\n', plan.Split('\n').Where(line => line.Contains("Index Cond", StringComparison.Ordinal)));

    /// <summary>
    /// A PUT manifest sends its writes after the reference check as one batch (one round trip): a statement
    /// failing in the middle of it (a trigger on the tag's insert, after the references and before the push
    /// event) leaves nothing behind, the statements before it rolled back and those after it never run.
    /// </summary>
    [Fact]
    public async Task A_put_manifest_that_fails_in_the_middle_of_its_batch_leaves_nothing()
    {
        await using var store = await CreateStoreAsync();
        var repo = await CreateRepoAsync(store);
        var layer = await UploadBlobAsync(store, repo.Id, "layer");
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await ExecuteAsync(
            connection,
            """
            CREATE FUNCTION refuse_tag() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'tag refused'; END $$;
            CREATE TRIGGER refuse_tag BEFORE INSERT ON tags FOR EACH ROW EXECUTE FUNCTION refuse_tag();
            """);
        var write = Image(repo.Id, "batched", [layer], tag: "v1") with
        {
            Event = new OutboxEvent("push", "{}", T0),
            Scan = new PushScanRequest(T0.AddDays(-1)),
        };

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.Images.PutManifestAsync(write, Ct));
        Assert.Contains("tag refused", error.MessageText, StringComparison.Ordinal);

        Assert.Null(await store.Images.GetManifestAsync(repo.Id, write.Digest, Ct));
        foreach (var table in new[] { "manifests", "manifest_blobs", "tags", "events", "image_scans" })
        {
            Assert.Equal(0L, await ExecuteAsync(connection, $"SELECT count(*) FROM {table}"));
        }

        await ExecuteAsync(connection, "DROP TRIGGER refuse_tag ON tags");
        var stored = await store.Images.PutManifestAsync(write, Ct);
        Assert.True(stored.Created);
        Assert.True(stored.TagChanged);
        Assert.Equal(write.Digest, (await store.Images.GetManifestByTagAsync(repo.Id, "v1", Ct))?.Digest);
        Assert.Equal(1L, await ExecuteAsync(connection, "SELECT count(*) FROM manifest_blobs"));
        Assert.Equal(1L, await ExecuteAsync(connection, "SELECT count(*) FROM events"));
        Assert.Equal(1L, await ExecuteAsync(connection, "SELECT count(*) FROM image_scans"));
    }

    private static async Task<object?> ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }

    [Fact]
    public async Task A_database_from_a_newer_Wharf_is_refused()
    {
        var cluster = await PostgresCluster.GetAsync();
        var connectionString = await cluster.CreateDatabaseAsync(Ct);
        await using var store = new PostgresMetadataStore(connectionString);
        await store.MigrateAsync(Ct);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)", connection);
            await command.ExecuteNonQueryAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.MigrateAsync(Ct));
        Assert.Contains("newer than this Wharf knows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_says_in_one_line_what_is_unreachable()
    {
        var cluster = await PostgresCluster.GetAsync();
        Assert.Null(await PostgresMetadataStore.ProbeAsync(cluster.AdminConnectionString, Ct));

        // Npgsql refuses multiplexing without its pool: the probe turns both off rather than failing on the key.
        Assert.Null(await PostgresMetadataStore.ProbeAsync(cluster.AdminConnectionString + ";Multiplexing=true", Ct));

        var closedPort = Ports.Free();
        var message = await PostgresMetadataStore.ProbeAsync($"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=wharf", Ct);
        Assert.NotNull(message);
        Assert.DoesNotContain('\n', message);
        Assert.Contains($"127.0.0.1:{closedPort}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pool_defaults_skip_the_reset_round_trip_and_prepare_hot_statements_unless_the_operator_set_them()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresMetadataStore.Tune("Host=db;Username=wharf;Database=wharf"));
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(64, tuned.MaxAutoPrepare);
        Assert.Equal("db", tuned.Host);

        var written = new NpgsqlConnectionStringBuilder(PostgresMetadataStore.Tune("Host=db;No Reset On Close=false;maxautoprepare=0"));
        Assert.False(written.NoResetOnClose);
        Assert.Equal(0, written.MaxAutoPrepare);
    }
}
