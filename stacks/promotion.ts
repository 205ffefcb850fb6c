/**
 * Promotion contract between stacks: prod deploys only the code versions that dev has deployed first.
 *
 * dev exports `artifacts` (an {@link ArtifactVersions}); a stack with `promotion.fromStack` reads that
 * output through a StackReference and refuses to deploy when its own artifacts differ, or when the output
 * is missing or malformed. With `promotion.requireSmoke` (the default), it also reads dev's `smoke` output,
 * which only a passing smoke check on dev's `pulumi up` sets (components/delivery/smokeCheck.ts), and refuses unless
 * it names the release this stack deploys. Every message says what to do next, because it is read in a
 * failed preview.
 */
import * as pulumi from "@pulumi/pulumi";
import { smokeMarkerProblem, SmokeMarker } from "../components/delivery/smokeCheck";

/** Content hashes (lowercase hex SHA-256) of everything a stack ships as code. */
export interface ArtifactVersions {
    readonly [artifact: string]: string;
}

export const ARTIFACTS_OUTPUT = "artifacts";
/** The source stack's smoke result (a {@link SmokeMarker}): the last release that passed its smoke check. */
export const SMOKE_OUTPUT = "smoke";

/** The smoke requirement of a promotion: the source stack's `smoke` output and the release deployed here. */
export interface SmokeRequirement {
    readonly exported: unknown;
    readonly releaseId: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class PromotionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PromotionError";
    }
}

/**
 * Checks `local` against what `fromStack` exported and, when `smoke` is given, that its smoke check passed
 * for this release. Pure: throws a {@link PromotionError} naming the stack, what differs and the command
 * that fixes it.
 */
export function checkPromotion(fromStack: string, exported: unknown, local: ArtifactVersions, smoke?: SmokeRequirement): ArtifactVersions {
    const deployFirst = `Deploy it there first (pulumi up --stack ${fromStack}), then run this stack again.`;
    if (exported === undefined || exported === null) {
        throw new PromotionError(
            `Stack ${fromStack} has no output "${ARTIFACTS_OUTPUT}": it has not deployed this version of the pipeline yet, ` +
                `or it is not the stack that proves releases. ${deployFirst}`,
        );
    }
    if (typeof exported !== "object" || Array.isArray(exported)) {
        throw new PromotionError(
            `Output "${ARTIFACTS_OUTPUT}" of stack ${fromStack} is ${Array.isArray(exported) ? "an array" : typeof exported}, ` +
                `expected an object of artifact name → SHA-256. Check that ${fromStack} runs this project.`,
        );
    }
    const theirs = exported as Record<string, unknown>;
    for (const [artifact, version] of Object.entries(local)) {
        const deployed = theirs[artifact];
        if (deployed === undefined) {
            throw new PromotionError(`Stack ${fromStack} has not deployed artifact "${artifact}" (sha256 ${version.slice(0, 12)}). ${deployFirst}`);
        }
        if (typeof deployed !== "string" || !SHA256.test(deployed)) {
            throw new PromotionError(`Stack ${fromStack} exported artifact "${artifact}" as ${JSON.stringify(deployed)}, expected a SHA-256 in hex.`);
        }
        if (deployed !== version) {
            throw new PromotionError(
                `Artifact "${artifact}" here is sha256 ${version.slice(0, 12)}, but ${fromStack} runs ${deployed.slice(0, 12)}: ` +
                    `this stack may only deploy what ${fromStack} has proven. ${deployFirst}`,
            );
        }
    }
    if (smoke) checkSmoke(fromStack, smoke);
    return local;
}

/** The smoke half of {@link checkPromotion}: `fromStack`'s smoke output names `smoke.releaseId`. */
function checkSmoke(fromStack: string, smoke: SmokeRequirement): void {
    const optOut = `(To promote without it, set promotion.requireSmoke to false in this stack's file.)`;
    const { exported, releaseId } = smoke;
    if (exported === undefined || exported === null) {
        throw new PromotionError(
            `Stack ${fromStack} has no output "${SMOKE_OUTPUT}": no smoke check has passed there. Turn it on ` +
                `(pulumi config set smokeOnUp true --stack ${fromStack}) and deploy it (pulumi up --stack ${fromStack}), then run this stack again. ${optOut}`,
        );
    }
    const problem = smokeMarkerProblem(exported);
    if (problem) {
        throw new PromotionError(
            `Output "${SMOKE_OUTPUT}" of stack ${fromStack} ${problem}. Check that ${fromStack} runs this project's smoke check (smokeOnUp).`,
        );
    }
    const passed = exported as SmokeMarker;
    if (passed.releaseId !== releaseId) {
        throw new PromotionError(
            `Smoke passed on ${fromStack} for release ${passed.releaseId} (${passed.passedAt}), but this stack deploys release ${releaseId}: ` +
                `this stack may only deploy a release whose files flowed on ${fromStack}. Deploy this release there (pulumi up --stack ${fromStack}); ` +
                `if that update failed at its smoke check, fix what the check reported first. ${optOut}`,
        );
    }
}

/**
 * Reads `fromStack`'s artifacts and resolves to `local` only when they match; resources that ship code
 * take their version from the result, so a refused promotion stops them from being created or updated.
 */
export function promotedArtifacts(
    name: string,
    fromStack: string,
    local: ArtifactVersions,
    opts: pulumi.CustomResourceOptions = {},
    /** The release id of `local`, when the source stack's smoke check must have passed for it. */
    requireSmokeFor?: string,
): pulumi.Output<ArtifactVersions> {
    const ref = new pulumi.StackReference(`${name}-promotion-source`, { name: fromStack }, opts);
    return pulumi
        .all([ref.getOutput(ARTIFACTS_OUTPUT), requireSmokeFor === undefined ? undefined : ref.getOutput(SMOKE_OUTPUT)])
        .apply(([exported, smoke]) =>
            checkPromotion(fromStack, exported, local, requireSmokeFor === undefined ? undefined : { exported: smoke, releaseId: requireSmokeFor }),
        );
}
