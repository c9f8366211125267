namespace Wharf.Core.Audit;

/// <summary>
/// The audit trail (docs/operations.md "Audit trail"): one CloudTrail-shaped record per API call and per
/// /v2 write, delete or refusal, kept in the metadata store for <c>Audit:Retention</c> and read by
/// CloudTrail's <c>LookupEvents</c> and <c>wharf audit</c>. Appended in batches, off the request path.
/// </summary>
public interface IAuditStore
{
}
