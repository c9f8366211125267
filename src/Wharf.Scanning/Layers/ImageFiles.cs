namespace Wharf.Scanning.Layers;

/// <summary>A file of the image as its layers leave it, and the layer that brought it; <see cref="Extracted"/> when only an extractor's lines were kept.</summary>
public sealed record ImageFile(string Path, byte[] Content, string LayerDigest, bool Executable, bool Extracted = false);

/// <summary>A file of the image the analyser wanted but did not keep (a limit of <see cref="LayerLimits"/>), and why.</summary>
public sealed record SkippedFile(string Path, long Size, string LayerDigest, string Reason);

/// <summary>
/// The files of interest of an image, built by applying its layers in order as a container runtime
/// would: a later layer's file replaces an earlier one, a whiteout (<c>.wh.name</c>) deletes a path
/// and everything under it, an opaque marker hides what lower layers put in its directory. Only the
/// files the caller wants are kept, so memory follows them, not the image.
/// </summary>
public sealed class ImageFiles
{
    private readonly Dictionary<string, (ImageFile File, int Layer)> files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (SkippedFile File, int Layer)> skipped = new(StringComparer.Ordinal);
    private int layer;

    /// <summary>Applies one layer's entries (read with <see cref="LayerReader"/>).</summary>
    public async Task ApplyAsync(string layerDigest, IAsyncEnumerable<LayerEntry> entries, CancellationToken cancellationToken = default)
    {
        layer++;
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            skipped.Remove(entry.Path);
            switch (entry.Kind)
            {
                case LayerEntryKind.Whiteout:
                    Remove(entry.Path, lowerThan: int.MaxValue);
                    break;
                case LayerEntryKind.Opaque:
                    RemoveUnder(entry.Path, lowerThan: layer);
                    break;
                case LayerEntryKind.File when entry.Content is not null:
                    files[entry.Path] = (new ImageFile(entry.Path, entry.Content, layerDigest, entry.Executable, entry.Extracted), layer);
                    break;
                case LayerEntryKind.File when entry.Skipped is not null:
                    // What the image would have there is unknown, so what a lower layer put there goes too.
                    files.Remove(entry.Path);
                    skipped[entry.Path] = (new SkippedFile(entry.Path, entry.Size, layerDigest, entry.Skipped), layer);
                    break;
                default:
                    // Anything else at a path (a directory, a link, a file not wanted) replaces a kept file there.
                    files.Remove(entry.Path);
                    break;
            }
        }
    }

    /// <summary>The files, by path.</summary>
    public IReadOnlyCollection<ImageFile> Files => files.Values.Select(f => f.File).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

    public ImageFile? Get(string path) => files.TryGetValue(path, out var f) ? f.File : null;

    /// <summary>The wanted files the image has but whose content was not kept, by path: what a scan of it could not read.</summary>
    public IReadOnlyList<SkippedFile> Skipped => skipped.Values.Select(f => f.File).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

    private void Remove(string path, int lowerThan)
    {
        files.Remove(path);
        skipped.Remove(path);
        RemoveUnder(path, lowerThan);
    }

    private void RemoveUnder(string directory, int lowerThan)
    {
        var prefix = directory.Length == 0 ? string.Empty : directory + "/";
        foreach (var key in files.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal) && f.Value.Layer < lowerThan).Select(f => f.Key).ToList())
        {
            files.Remove(key);
        }

        foreach (var key in skipped.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal) && f.Value.Layer < lowerThan).Select(f => f.Key).ToList())
        {
            skipped.Remove(key);
        }
    }
}
