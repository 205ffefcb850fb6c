/**
 * The policy pack's policies: one mandatory stack policy per graph invariant (policy/invariants.ts). Kept
 * apart from index.ts, whose `new PolicyPack` starts the analyzer server, so that tests can run these
 * functions offline.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { GraphResource, Invariant, INVARIANTS } from "./invariants";

/** A resource as the policy engine presents it, in the invariants' view. */
export function fromPolicyResource(r: PolicyResource): GraphResource {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [prop, deps] of Object.entries(r.propertyDependencies ?? {})) propertyDependencies[prop] = deps.map((d) => d.urn);
    return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        props: r.props ?? {},
        provider: r.provider ? { urn: r.provider.urn, props: r.provider.props ?? {} } : undefined,
        propertyDependencies,
    };
}

/** One invariant as a mandatory stack validation policy: each finding is one violation on its resource. */
export function stackPolicy(invariant: Invariant): StackValidationPolicy {
    return {
        name: invariant.name,
        description: invariant.description,
        enforcementLevel: "mandatory",
        validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
            for (const finding of invariant.check(args.resources.map(fromPolicyResource))) reportViolation(finding.message, finding.urn);
        },
    };
}

export const POLICIES: StackValidationPolicy[] = INVARIANTS.map(stackPolicy);
