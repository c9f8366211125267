using System.Globalization;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Storage;

namespace Wharf.Core.Encryption;

/// <summary>What one run of <see cref="EncryptionMigrator"/> did.</summary>
/// <param name="PlaintextBlobs">Plaintext blobs found in the blob store (each a live blob stored at its digest).</param>
/// <param name="CopiesSealed">Sealed copies written (a blob linked to repositories under two keys gets two).</param>
/// <param name="PlaintextDeleted">Plaintext blobs deleted after every scope that needs them had its sealed copy for the grace period.</param>
/// <param name="PlaintextWaiting">Plaintext blobs sealed but kept until reads that may have opened them have ended.</param>
/// <param name="WaitingUntil">When the last of those may go.</param>
/// <param name="Failed">Blobs that could not be sealed (each told to the problem callback); their plaintext stays.</param>
/// <param name="Disabled">Sealing is turned off (<c>Encryption:Enabled=false</c>): nothing was done.</param>
public sealed record EncryptReport(
    long PlaintextBlobs, long CopiesSealed, long PlaintextDeleted, long PlaintextWaiting, DateTimeOffset? WaitingUntil, long Failed, bool Disabled)
{
    /// <summary>Plaintext blobs still in the store after the run.</summary>
    public long Unencrypted => PlaintextBlobs - PlaintextDeleted;
}

/// <summary>
/// Encrypts an install that holds plaintext blobs from before sealing (issue 21 point 4), in place and while it
/// serves: each plaintext blob in the blob store is sealed under the scope of every repository linked to it
/// (<see cref="IBlobVault.SealPlaintextAsync"/>: the sealed copy is written, committed and recorded, and from then
/// on every read goes to it), and its plaintext is deleted only once the newest of those copies is older than the
/// grace period — longer than any read that found no sealed copy a moment before and opened the plaintext. Nothing
/// is kept between runs: the store's listing is the work list, sealed blobs are skipped and deleted plaintext is
/// not listed, so a run that was stopped (killed, its lease lost) resumes where it stopped.
/// </summary>
public sealed class EncryptionMigrator(IMetadataStore store, IBlobStore blobs, IBlobVault vault, TimeProvider time)
{
    /// <summary>The phases a run reports, in order.</summary>
    public const string SealPhase = "sealing plaintext blobs", WaitPhase = "waiting for reads of the plaintext to end", DeletePhase = "deleting sealed plaintext";

    /// <summary>
    /// One pass over the blob store. Plaintext whose sealed copies are younger than <paramref name="grace"/> is kept
    /// (<see cref="EncryptReport.PlaintextWaiting"/>) unless <paramref name="wait"/>, which waits the grace out and
    /// deletes it too. <paramref name="problem"/> hears one line per blob that could not be sealed.
    /// </summary>
    public async Task<EncryptReport> RunOnceAsync(TimeSpan grace, bool wait, IProgress<WorkProgress>? progress, Action<string>? problem, CancellationToken cancellationToken)
    {
        long plaintext = 0, sealedCopies = 0, deleted = 0, failed = 0;
        var waiting = new List<(Digest Digest, DateTimeOffset Due)>();
        progress?.Report(new WorkProgress(SealPhase, 0));
        await foreach (var stored in blobs.ListAsync(cancellationToken))
        {
            // A live blob's row at the very name the store lists is a plaintext blob; sealed copies live at names of
            // their own, which are no blob's digest.
            if (await store.Blobs.GetBlobAsync(stored.Digest, cancellationToken) is null)
            {
                continue;
            }

            plaintext++;
            var outcome = await SealAsync(stored.Digest, problem, cancellationToken);
            progress?.Report(new WorkProgress(SealPhase, plaintext));
            switch (outcome)
            {
                case { Disabled: true }:
                    return new EncryptReport(plaintext, sealedCopies, deleted, 0, null, failed, Disabled: true);
                case { Failed: true }:
                    failed++;
                    continue;
                case { Gone: true }:
                    plaintext--;
                    continue;
            }

            sealedCopies += outcome.Sealed;
            var due = outcome.NewestCopy + grace;
            if (due <= time.GetUtcNow())
            {
                deleted += await vault.DeletePlaintextAsync(stored.Digest, cancellationToken) ? 1 : 0;
            }
            else
            {
                waiting.Add((stored.Digest, due));
            }
        }

        if (waiting.Count > 0 && wait)
        {
            var until = waiting.Max(w => w.Due);
            progress?.Report(new WorkProgress(WaitPhase, 0));
            if (until - time.GetUtcNow() is { Ticks: > 0 } left)
            {
                await Task.Delay(left, time, cancellationToken);
            }

            progress?.Report(new WorkProgress(DeletePhase, 0, waiting.Count));
            var done = 0;
            foreach (var (digest, _) in waiting)
            {
                deleted += await vault.DeletePlaintextAsync(digest, cancellationToken) ? 1 : 0;
                progress?.Report(new WorkProgress(DeletePhase, ++done, waiting.Count));
            }

            waiting.Clear();
        }

        return new EncryptReport(plaintext, sealedCopies, deleted, waiting.Count, waiting.Count == 0 ? null : waiting.Max(w => w.Due), failed, Disabled: false);
    }

    /// <summary>The scopes that need a sealed copy of <paramref name="digest"/>: those of the repositories linked to it, or the master key's when none is.</summary>
    public async Task<IReadOnlyList<BlobScope>> ScopesAsync(Digest digest, CancellationToken cancellationToken) =>
        await ScopesAsync(store, digest, cancellationToken);

    internal static async Task<IReadOnlyList<BlobScope>> ScopesAsync(IMetadataStore store, Digest digest, CancellationToken cancellationToken)
    {
        var links = await store.Blobs.ListLinkEncryptionsAsync(digest, cancellationToken);
        return links.Count == 0
            ? [BlobScope.Master]
            : [.. links.Select(l => BlobScope.Of(RepositorySettings.Default with { EncryptionType = l.EncryptionType, KmsKey = l.KmsKey })).Distinct()];
    }

    private async Task<Outcome> SealAsync(Digest digest, Action<string>? problem, CancellationToken cancellationToken)
    {
        var sealedCopies = 0;
        foreach (var scope in await ScopesAsync(digest, cancellationToken))
        {
            SealResult result;
            try
            {
                result = await vault.SealPlaintextAsync(scope, digest, cancellationToken);
            }
            catch (InvalidDataException e)
            {
                problem?.Invoke($"{digest}: not sealed, its plaintext is damaged ({e.Message}); run 'wharf check --deep'");
                return new Outcome(Failed: true);
            }
            catch (WharfException e)
            {
                // A KMS key that is disabled or gone: the blob stays readable as it is until the key is usable again.
                problem?.Invoke($"{digest}: not sealed under {scope.Id}: {e.Message}");
                return new Outcome(Failed: true);
            }

            switch (result)
            {
                case SealResult.Disabled:
                    return new Outcome(Disabled: true);
                case SealResult.Missing:
                    return new Outcome(Gone: true); // garbage collection deleted it meanwhile
                case SealResult.Sealed:
                    sealedCopies++;
                    break;
            }
        }

        var newest = DateTimeOffset.MinValue;
        foreach (var copy in await vault.ListSealedAsync(digest, cancellationToken))
        {
            newest = copy.CreatedAt > newest ? copy.CreatedAt : newest;
        }

        return new Outcome(Sealed: sealedCopies, NewestCopy: newest);
    }

    private readonly record struct Outcome(bool Failed = false, bool Disabled = false, bool Gone = false, int Sealed = 0, DateTimeOffset NewestCopy = default);

    /// <summary>One line for logs and <c>wharf status</c>.</summary>
    public static string Describe(EncryptReport report) => report.Disabled
        ? "sealing is turned off (Encryption:Enabled=false)"
        : string.Create(
            CultureInfo.InvariantCulture,
            $"{report.PlaintextBlobs} plaintext blobs found, {report.CopiesSealed} sealed copies written, {report.PlaintextDeleted} plaintext blobs deleted, {report.PlaintextWaiting} kept for the grace period, {report.Failed} failed");
}
