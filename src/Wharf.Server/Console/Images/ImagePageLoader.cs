using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Core.Uploads;

namespace Wharf.Server.WebConsole.Images;

/// <summary>A part of the page that could not be shown: the refusal (AWS's reason) or, for a document, why it could not be read.</summary>
internal sealed record SectionProblem(WharfException? Refusal, string? Unreadable);

/// <summary>The image's config: its blob, what could be read of it, or why it is not shown.</summary>
internal sealed record ConfigSection(BlobRecord? Blob, ImageConfigView? View, SectionProblem? Problem, bool TooLarge);

/// <summary>The findings of the image's latest scan, sorted by severity, or why they are not shown.</summary>
internal sealed record FindingsSection(ImageScanRecord? Scan, IReadOnlyList<ScanFinding> Findings, SectionProblem? Problem);

/// <summary>Everything the image page shows, each part read through a service as the signed-in caller.</summary>
internal sealed record ImagePageData(
    RepositoryKey Key,
    ManifestRecord Manifest,
    ManifestView? View,
    SectionProblem? ManifestProblem,
    ImageSummary? Summary,
    SectionProblem? SummaryProblem,
    ConfigSection? Config,
    IReadOnlyList<ReferrerRecord> Referrers,
    SectionProblem? ReferrersProblem,
    FindingsSection Findings);

/// <summary>
/// Reads the image page's parts. The manifest is the page (<c>ecr:BatchGetImage</c>; a refusal or a
/// missing image fails the whole page); every other part is authorised by its own action — the summary
/// <c>ecr:DescribeImages</c>, the config <c>ecr:GetDownloadUrlForLayer</c>, the referrers
/// <c>ecr:BatchGetImage</c>, the findings <c>ecr:DescribeImageScanFindings</c> — and a refusal of one
/// shows AWS's reason in its place while the rest of the page stays.
/// </summary>
internal sealed class ImagePageLoader(ImageService images, ManifestService manifests, BlobService blobs)
{
    public async Task<ImagePageData> LoadAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        var id = new ImageRef(digest.ToString(), null);
        var manifest = await images.FindAsync(caller, key, EcrActions.BatchGetImage, id, cancellationToken);

        ManifestView? view = null;
        SectionProblem? manifestProblem = null;
        try
        {
            view = ImageDocuments.ReadManifest(manifest.Content, manifest.MediaType);
        }
        catch (UnreadableDocumentException e)
        {
            manifestProblem = new SectionProblem(null, e.Message);
        }

        var (summaries, summaryProblem) = await TryAsync(() => images.DescribeAsync(caller, key, [id], cancellationToken));
        var summary = summaries is [var first, ..] ? first : null;
        var config = view is { IsIndex: false, Config: { Digest: { } configDigest } configDescriptor } && MediaTypes.IsImageConfig(configDescriptor.MediaType)
            ? await ReadConfigAsync(caller, key, configDigest, cancellationToken)
            : null;
        var (referrers, referrersProblem) = await TryAsync(() => manifests.ListReferrersAsync(caller, key, digest, null, cancellationToken));
        return new ImagePageData(key, manifest, view, manifestProblem, summary, summaryProblem, config, referrers ?? [], referrersProblem, await FindingsAsync(caller, key, id, cancellationToken));
    }

    private async Task<ConfigSection> ReadConfigAsync(Caller caller, RepositoryKey key, Digest digest, CancellationToken cancellationToken)
    {
        BlobRecord blob;
        byte[]? content;
        try
        {
            (blob, content) = await blobs.ReadSmallAsync(caller, key, digest, ImageDocuments.MaxConfigBytes, cancellationToken);
        }
        catch (WharfException e) when (e.Code != WharfErrorCode.Unavailable)
        {
            return new ConfigSection(null, null, new SectionProblem(e, null), false);
        }

        if (content is null)
        {
            return new ConfigSection(blob, null, null, TooLarge: true);
        }

        try
        {
            return new ConfigSection(blob, ImageDocuments.ReadConfig(content), null, false);
        }
        catch (UnreadableDocumentException e)
        {
            return new ConfigSection(blob, null, new SectionProblem(null, e.Message), false);
        }
    }

    private async Task<FindingsSection> FindingsAsync(Caller caller, RepositoryKey key, ImageRef id, CancellationToken cancellationToken)
    {
        try
        {
            var (_, scan) = await images.GetScanAsync(caller, key, id, cancellationToken);
            return new FindingsSection(scan, Severities.Sort(ScanFinding.Deserialize(scan.FindingsJson)), null);
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.ScanNotFound)
        {
            return new FindingsSection(null, [], null);
        }
        catch (WharfException e) when (e.Code != WharfErrorCode.Unavailable)
        {
            return new FindingsSection(null, [], new SectionProblem(e, null));
        }
    }

    private static async Task<(T? Value, SectionProblem? Problem)> TryAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return (await read(), null);
        }
        catch (WharfException e) when (e.Code != WharfErrorCode.Unavailable)
        {
            return (null, new SectionProblem(e, null));
        }
    }
}
