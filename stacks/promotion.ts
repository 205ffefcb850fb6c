/**
 * Promotion contract between stacks: prod deploys only the code versions that dev has deployed first.
 *
 * dev exports `artifacts` (an {@link ArtifactVersions}); a stack with `promotion.fromStack` reads that
 * output through a StackReference and refuses to deploy when its own artifacts differ, or when the output
 * is missing or malformed. Every message says what to do next, because it is read in a failed preview.
 */
import * as pulumi from "@pulumi/pulumi";

/** Content hashes (lowercase hex SHA-256) of everything a stack ships as code. */
export interface ArtifactVersions {
    readonly [artifact: string]: string;
}

export const ARTIFACTS_OUTPUT = "artifacts";

const SHA256 = /^[0-9a-f]{64}$/;

export class PromotionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PromotionError";
    }
}

/**
 * Checks `local` against what `fromStack` exported. Pure: throws a {@link PromotionError} naming the
 * stack, the artifact and the command that fixes it.
 */
export function checkPromotion(fromStack: string, exported: unknown, local: ArtifactVersions): ArtifactVersions {
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
    return local;
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
): pulumi.Output<ArtifactVersions> {
    const ref = new pulumi.StackReference(`${name}-promotion-source`, { name: fromStack }, opts);
    return ref.getOutput(ARTIFACTS_OUTPUT).apply((exported) => checkPromotion(fromStack, exported, local));
}
