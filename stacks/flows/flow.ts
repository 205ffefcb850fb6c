/**
 * The one shape every flow of the workload has, and the pure helpers the composition (stacks/workload.ts)
 * uses to put flows together. A flow is a definition with two halves:
 *
 * - `storage`, known before anything is built: what the flow needs of the shared buckets (which of its
 *   output prefixes expire with the output bucket, its own prefix rules, the log groups it adds under the
 *   data-lake key). The buckets exist before any flow, so these cannot come from the built flow.
 * - `build`, given the platform (buckets, metadata table, Glue environment, release): the flow's resources,
 *   returned as a {@link Flow} — what monitoring watches, the stack outputs, the artifact versions it ships
 *   (the promotion contract), the triggers it puts on the input bucket's one notification, and what the
 *   smoke check must wait for.
 *
 * The composition only concatenates and merges these; it knows no flow's names or prefixes.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
    DataLakeBuckets,
    GlueEnvironment,
    GlueEtlJob,
    MonitoredFastPath,
    MonitoredFeedQueue,
    MonitoredFunction,
    MonitoredGlueJob,
    MonitoredQueue,
    MonitoredStateMachine,
    MonitoredTable,
    PrefixLifecycleRule,
    ProcessingMetadataTable,
    S3TriggeredLambda,
} from "../../components";
import type { StackConfig } from "../config";
import type { ArtifactVersions } from "../promotion";

/** What every flow builds on: created once by the composition, before any flow. */
export interface Platform {
    readonly accountId: pulumi.Input<string>;
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    /** The release id, stamped on every job and function. */
    readonly release: pulumi.Input<string>;
}

/** What PipelineMonitoring watches of a flow (alarms, dashboards, the job-events handler's rules). */
export interface FlowMonitoring {
    readonly glueJobs: readonly MonitoredGlueJob[];
    readonly functions: readonly MonitoredFunction[];
    readonly deadLetterQueues: readonly MonitoredQueue[];
    /** The queues that feed triggered functions: their backlog (depth, oldest message's age). */
    readonly feedQueues: readonly MonitoredFeedQueue[];
    readonly stateMachines: readonly MonitoredStateMachine[];
    readonly tables: readonly MonitoredTable[];
    /** Fast paths beside Glue jobs (the CSV converter): conversions, fallbacks, duration against the timeout. */
    readonly fastPaths: readonly MonitoredFastPath[];
}

/** What a flow needs of the shared buckets and key (DataLakeBuckets' arguments). */
export interface FlowStorage {
    /**
     * Output-bucket prefixes the flow writes that expire with the output bucket's retention. List them all,
     * quarantine included: one already covered by another flow's prefix adds no rule of its own.
     */
    readonly expiringOutputPrefixes: readonly string[];
    /** Output-bucket rules of the flow's own (other expirations, transitions). */
    readonly prefixRules: readonly PrefixLifecycleRule[];
    /** Log-group name patterns, beyond the defaults, whose logs the data-lake key must encrypt. */
    readonly logGroupNamePatterns: readonly string[];
}

/** A function fed by the input bucket's one notification configuration (through its queue), and the filter it is fed for. */
export interface InputBucketTrigger {
    readonly lambda: S3TriggeredLambda;
    /** Key prefix of the filter; "" for the whole bucket. */
    readonly prefix: string;
    readonly suffix: string;
}

/** Artifact versions by the promotion contract's names; an undefined one is not shipped by this stack. */
export type FlowArtifacts = { readonly [artifact: string]: pulumi.Input<string> | undefined };

/** A built flow. */
export interface Flow {
    /** The flow's key in the composition's list (e.g. `csv`). */
    readonly name: string;
    readonly monitored: FlowMonitoring;
    /** Stack outputs; a key may be exported by one flow only. */
    readonly outputs: Readonly<Record<string, pulumi.Input<unknown>>>;
    /** Versions of the code the flow ships; a shared artifact (the Glue library) must agree across flows. */
    readonly artifacts: pulumi.Input<FlowArtifacts>;
    /** Triggers on the input bucket, which S3 allows one notification configuration. @default none */
    readonly inputBucketTriggers: readonly InputBucketTrigger[];
    /** Resources the smoke check drives, so it runs only after them. @default none */
    readonly smokeDependencies: readonly pulumi.Resource[];
}

export interface FlowDefinition<F extends Flow | undefined = Flow | undefined> {
    readonly storage: FlowStorage;
    /** Builds the flow's resources; undefined when the stack's configuration leaves the flow out. */
    build(name: string, config: StackConfig, platform: Platform, opts: pulumi.ComponentResourceOptions): F;
}

export const NO_STORAGE_NEEDS: FlowStorage = { expiringOutputPrefixes: [], prefixRules: [], logGroupNamePatterns: [] };

/** A flow's monitoring with the lists it does not name left empty. */
export function flowMonitoring(parts: Partial<FlowMonitoring>): FlowMonitoring {
    return { glueJobs: [], functions: [], deadLetterQueues: [], feedQueues: [], stateMachines: [], tables: [], fastPaths: [], ...parts };
}

/** What PipelineMonitoring needs to watch one GlueEtlJob. */
export function monitoredJob(job: GlueEtlJob): MonitoredGlueJob {
    return { label: job.settings.jobName, name: job.jobName, arn: job.jobArn, logGroups: { output: job.outputLogGroup.name, error: job.errorLogGroup.name } };
}

/** The flows' monitoring lists, concatenated in the flows' order. */
export function concatMonitoring(parts: readonly FlowMonitoring[]): FlowMonitoring {
    return {
        glueJobs: parts.flatMap((p) => p.glueJobs),
        functions: parts.flatMap((p) => p.functions),
        deadLetterQueues: parts.flatMap((p) => p.deadLetterQueues),
        feedQueues: parts.flatMap((p) => p.feedQueues),
        stateMachines: parts.flatMap((p) => p.stateMachines),
        tables: parts.flatMap((p) => p.tables),
        fastPaths: parts.flatMap((p) => p.fastPaths),
    };
}

/**
 * The flows' storage needs as one DataLakeBuckets argument set: expiring prefixes in order, without those
 * another listed prefix already covers (S3 would apply both rules to the same objects; one is enough).
 */
export function combinedStorage(needs: readonly FlowStorage[]): FlowStorage {
    const listed = needs.flatMap((n) => n.expiringOutputPrefixes);
    const covers = (outer: string, inner: string) => outer !== inner && inner.startsWith(outer);
    const expiringOutputPrefixes = [...new Set(listed)].filter((p) => !listed.some((other) => covers(other, p)));
    return {
        expiringOutputPrefixes,
        prefixRules: needs.flatMap((n) => n.prefixRules),
        logGroupNamePatterns: [...new Set(needs.flatMap((n) => n.logGroupNamePatterns))],
    };
}

/** Merges stack outputs; two flows exporting the same key is a mistake, refused naming the key. */
export function mergeOutputs(parts: ReadonlyArray<{ readonly name: string; readonly outputs: Readonly<Record<string, pulumi.Input<unknown>>> }>): Record<string, pulumi.Input<unknown>> {
    const merged: Record<string, pulumi.Input<unknown>> = {};
    const owner = new Map<string, string>();
    for (const part of parts) {
        for (const [key, value] of Object.entries(part.outputs)) {
            const previous = owner.get(key);
            if (previous !== undefined) throw new Error(`Stack output "${key}" is exported by both ${previous} and ${part.name}`);
            owner.set(key, part.name);
            merged[key] = value;
        }
    }
    return merged;
}

/**
 * Merges resolved artifact versions. Flows may ship the same artifact (the trigger bundle, the Glue
 * library), but then with one version: two versions under one name would make the promotion check compare
 * the wrong thing, so that is refused.
 */
export function mergeArtifactVersions(parts: ReadonlyArray<{ readonly name: string; readonly artifacts: Readonly<Record<string, string | undefined>> }>): ArtifactVersions {
    const merged: Record<string, string> = {};
    const owner = new Map<string, string>();
    for (const part of parts) {
        for (const [key, version] of Object.entries(part.artifacts)) {
            if (version === undefined) continue;
            if (key in merged && merged[key] !== version) {
                throw new Error(`Artifact "${key}" has two versions: ${merged[key]} (${owner.get(key)}) and ${version} (${part.name})`);
            }
            if (!(key in merged)) owner.set(key, part.name);
            merged[key] = version;
        }
    }
    return merged;
}

/**
 * Refuses input-bucket triggers whose filters overlap (one's prefix starts the other's and one's suffix ends
 * the other's): S3 rejects such a notification configuration at deploy time, after everything else was built.
 */
export function checkTriggerFilters(triggers: ReadonlyArray<{ readonly flow: string; readonly prefix: string; readonly suffix: string }>): void {
    const overlaps = (a: string, b: string, test: (x: string, y: string) => boolean) => test(a, b) || test(b, a);
    for (let i = 0; i < triggers.length; i++) {
        for (let j = i + 1; j < triggers.length; j++) {
            const [a, b] = [triggers[i], triggers[j]];
            const prefixes = overlaps(a.prefix, b.prefix, (x, y) => x.startsWith(y));
            // S3 compares filters case-sensitively, as written.
            const suffixes = overlaps(a.suffix, b.suffix, (x, y) => x.endsWith(y));
            if (prefixes && suffixes) {
                throw new Error(
                    `The ${a.flow} and ${b.flow} flows' input-bucket triggers overlap (prefix "${a.prefix}" suffix "${a.suffix}" vs prefix "${b.prefix}" suffix "${b.suffix}"), ` +
                        "which S3 refuses: give one a suffix or a prefix the other cannot match",
                );
            }
        }
    }
}
