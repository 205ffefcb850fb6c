/**
 * Queries over the resources the mocks recorded: the one way tests look at what a component created.
 */
import type { PolicyStatement } from "../../components/iam/iamPolicies";
import { RecordedResource, recordedResources, resetRecorded, waitForRegistrations } from "../../scripts/offline/pulumiMocks";

export { resetRecorded, waitForRegistrations };
export type { RecordedResource };

/** Every recorded resource of a type token, e.g. `aws:s3/bucket:Bucket`. */
export function ofType(type: string): RecordedResource[] {
    return recordedResources().filter((r) => r.type === type);
}

/** The one resource with this logical name; fails loudly when there is none or several. */
export function named(name: string, type?: string): RecordedResource {
    const hits = recordedResources().filter((r) => r.name === name && (type === undefined || r.type === type));
    if (hits.length !== 1) {
        const known = recordedResources().map((r) => `${r.type}::${r.name}`).join("\n  ");
        throw new Error(`expected one resource named ${name}${type ? ` of ${type}` : ""}, found ${hits.length}; recorded:\n  ${known}`);
    }
    return hits[0];
}

/** Resources whose parent chain reaches `ancestor` (by URN). */
export function descendantsOf(ancestor: RecordedResource): RecordedResource[] {
    const all = recordedResources();
    const byUrn = new Map(all.map((r) => [r.urn, r]));
    return all.filter((r) => {
        for (let p = r.parent; p; p = byUrn.get(p)?.parent ?? "") if (p === ancestor.urn) return true;
        return false;
    });
}

export type { PolicyStatement };

/** Parses a policy document input (string or object) into its statements. */
export function statementsOf(policy: unknown): PolicyStatement[] {
    const doc = typeof policy === "string" ? JSON.parse(policy) : policy;
    const statements = (doc as { Statement?: PolicyStatement | PolicyStatement[] })?.Statement ?? [];
    return Array.isArray(statements) ? statements : [statements];
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
