/**
 * The workload composition: what one workload account (dev or prod) runs. Both stacks deploy the same
 * pipeline; their differences are configuration (sizes, Flex, retention, deletion protection) and, for a
 * stack with `promotion.fromStack`, the rule that it ships only code the source stack has deployed.
 *
 * In four steps: the platform (buckets, metadata table, Glue environment) → the flows (stacks/flows/, each
 * one {@link Flow}) → monitoring over all flows → the outputs merged from the flows, and last the smoke check.
 * This file knows no flow's names or prefixes: it concatenates what the flows declare.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    DataLakeBuckets,
    DEFAULT_LOG_GROUP_NAME_PATTERNS,
    GlueEnvironment,
    metadataTableName,
    PipelineMonitoring,
    ProcessingMetadataTable,
    STATUS_INDEX_NAME,
} from "../components";
import { localArtifactVersions, releaseId, shippedArtifacts } from "./artifacts";
import { FAST_PATH_CONFIG_DEFAULTS, StackConfig } from "./config";
import { ArtifactVersions, promotedArtifacts } from "./promotion";
import { permissionsBoundaryTransform } from "../components/delivery/deployRoles";
import { SmokeCheck } from "../components/delivery/smokeCheck";
import {
    checkTriggerFilters,
    combinedStorage,
    concatMonitoring,
    Flow,
    FlowDefinition,
    flowMonitoring,
    InputBucketTrigger,
    mergeArtifactVersions,
    mergeOutputs,
    Platform,
    SMOKE_FLOW_PREFIXES,
    WORKLOAD_FLOWS,
} from "./flows";

// The CSV flow's suffix, for importers written before the flows moved to stacks/flows/ (stacks/flows/csv.ts).
export { CSV_SUFFIX } from "./flows/csv";

/**
 * The CloudWatch console page of a dashboard, in the stack's region (the console's own regional host and
 * `region=` parameter, so the link opens where the dashboard is) and partition (China and GovCloud have
 * their own console domains).
 */
export function dashboardConsoleUrl(region: string, dashboardName: string): string {
    const host = region.startsWith("cn-")
        ? `${region}.console.amazonaws.cn`
        : region.startsWith("us-gov-")
          ? `${region}.console.amazonaws-us-gov.com`
          : `${region}.console.aws.amazon.com`;
    return `https://${host}/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}

/** The flows a workload may be built with: the project's own, and (in tests) more. */
export type WorkloadFlowDefinitions = typeof WORKLOAD_FLOWS & Readonly<Record<string, FlowDefinition>>;

/** The project's flows, built: each under its key in {@link WORKLOAD_FLOWS}. */
export type WorkloadFlows = { readonly [K in keyof typeof WORKLOAD_FLOWS]: ReturnType<(typeof WORKLOAD_FLOWS)[K]["build"]> };

export interface WorkloadStack extends WorkloadFlows {
    readonly buckets: DataLakeBuckets;
    readonly metadata: ProcessingMetadataTable;
    readonly glue: GlueEnvironment;
    /** Every flow the stack deployed, in monitoring's order (the ones its configuration leaves out are absent). */
    readonly flows: readonly Flow[];
    /** The input bucket's one notification configuration, shared by every flow's input-bucket trigger. */
    readonly inputNotifications: aws.s3.BucketNotification;
    /** Alarms, dashboards, the alerts topic and the Glue job-events handler. */
    readonly monitoring: PipelineMonitoring;
    /** Versions of the code this stack deployed: the promotion contract's `artifacts` output. */
    readonly artifacts: pulumi.Output<ArtifactVersions>;
    /** Short id of the release (all artifact versions), stamped on every job and function. */
    readonly releaseId: pulumi.Output<string>;
    /** The smoke check run by `pulumi up` after the flows are deployed, with `smokeOnUp`. */
    readonly smoke?: SmokeCheck;
    readonly outputs: Record<string, pulumi.Input<unknown>>;
}

export function createWorkload(config: StackConfig, provider: aws.Provider, definitions: WorkloadFlowDefinitions = WORKLOAD_FLOWS): WorkloadStack {
    // Every role under these components carries the bootstrap's boundary: the deploy role may create no other.
    const opts: pulumi.ComponentResourceOptions = {
        providers: [provider],
        transforms: config.permissionsBoundaryArn ? [permissionsBoundaryTransform(config.permissionsBoundaryArn)] : [],
    };
    const stage = config.stage;

    // Code versions first: with promotion, everything that ships code waits for (and is blocked by) the
    // check against the source stack, because it takes the release id from the checked result.
    const local = localArtifactVersions(shippedArtifacts(config.medallion !== undefined, (config.fastPath ?? FAST_PATH_CONFIG_DEFAULTS).enabled));
    const requireSmoke = config.promotion?.requireSmoke ?? true;
    const release = config.promotion
        ? promotedArtifacts(config.stackName, config.promotion.fromStack, local, { provider }, requireSmoke ? releaseId(local) : undefined).apply(releaseId)
        : pulumi.output(releaseId(local));

    // The caller identity, not the config, names the buckets: the provider's allowedAccountIds already
    // refuses credentials for another account, so the two agree whenever anything is deployed.
    const accountId = aws.getCallerIdentityOutput({}, { provider }).accountId;

    // --- the platform ------------------------------------------------------------------------------------
    // What the flows need of the shared buckets is declared by each flow, before any is built. The output
    // bucket's retention (90 days) applies to the prefixes the flows list, not the whole bucket: a flow may
    // keep data for good (the medallion flow's silver and gold) or expire it sooner through its own rules.
    const storage = combinedStorage(Object.values(definitions).map((d) => d.storage));
    const buckets = new DataLakeBuckets(
        "data-lake",
        {
            stage,
            accountId,
            allowDestroy: config.allowDataDestroy,
            output: { expirationPrefixes: storage.expiringOutputPrefixes, prefixRules: storage.prefixRules },
            logGroupNamePatterns: [...DEFAULT_LOG_GROUP_NAME_PATTERNS, ...storage.logGroupNamePatterns],
        },
        opts,
    );
    const keyArn = buckets.kmsKeyArn;

    const metadata = new ProcessingMetadataTable(
        "processing-metadata",
        { stage, kmsKeyArn: keyArn, deletionProtection: !config.allowDataDestroy, allowDestroy: config.allowDataDestroy },
        opts,
    );

    const glue = new GlueEnvironment("glue", { stage, kmsKeyArn: keyArn }, opts);
    const platform: Platform = { accountId, buckets, metadata, glue, release };

    // --- the flows ---------------------------------------------------------------------------------------
    const built = Object.fromEntries(Object.entries(definitions).map(([name, d]) => [name, d.build(name, config, platform, opts)])) as Record<string, Flow | undefined>;
    const flows = Object.values(built).filter((f): f is Flow => f !== undefined);

    // S3 keeps one notification configuration per bucket: one for every flow's input-bucket trigger, each
    // to the trigger's own queue.
    const triggers: Array<InputBucketTrigger & { readonly flow: string }> = flows.flatMap((f) => f.inputBucketTriggers.map((t) => ({ ...t, flow: f.name })));
    checkTriggerFilters(triggers);
    const inputNotifications = new aws.s3.BucketNotification(
        "input-notifications",
        { bucket: buckets.inputBucket.bucket, queues: triggers.map((t) => t.lambda.queueNotification) },
        // S3 sends each queue a test message when the configuration is saved: the queue policies first.
        { provider, dependsOn: triggers.map((t) => t.lambda.queuePolicy) },
    );

    // --- monitoring over all flows -----------------------------------------------------------------------
    const watched = concatMonitoring([
        ...flows.map((f) => f.monitored),
        flowMonitoring({ tables: [{ label: metadataTableName(stage), name: metadata.tableName, globalSecondaryIndexes: [STATUS_INDEX_NAME] }] }),
    ]);
    const monitoring = new PipelineMonitoring(
        "monitoring",
        {
            stage,
            alertEmails: config.alerts?.emails ?? [],
            ...watched,
            metadataTable: { name: metadata.tableName, arn: metadata.tableArn },
            kmsKeyArn: keyArn,
            replayCommand: `npm run replay -- --stack ${config.stackName}`,
            // Stamped like every other function: a deployed handler says which release it runs.
            releaseId: release,
            // Capped like the other functions, only when the stack opts in (trigger.reservedConcurrency).
            eventHandlerReservedConcurrency: config.trigger.reservedConcurrency,
        },
        opts,
    );
    const eventHandler = monitoring.eventHandler;
    // Every workload has Glue jobs, so monitoring always builds the job-events handler; without it the stack
    // would ship a release whose artifacts leave out a function it runs.
    if (eventHandler === undefined) throw new Error("PipelineMonitoring built no Glue job-events handler: no flow has a Glue job");
    const monitoringPart = {
        name: "monitoring",
        outputs: {
            alertsTopicArn: monitoring.alertsTopicArn,
            // Links a reader can open; the names stay available for scripts.
            dashboards: {
                overview: dashboardConsoleUrl(config.region, monitoring.dashboardNames.overview),
                operations: dashboardConsoleUrl(config.region, monitoring.dashboardNames.operations),
            },
            dashboardNames: monitoring.dashboardNames,
            glueJobEventsFunction: eventHandler.function.name,
            glueJobEventsDeadLetterQueue: eventHandler.deadLetterQueue.url,
        },
        artifacts: { glueJobEventsBundle: eventHandler.bundleSha256 },
    };

    // What this stack deployed, read from the components themselves: the promotion contract's output.
    const shipping = [...flows, monitoringPart];
    const artifacts = pulumi
        .all(shipping.map((part) => pulumi.output(part.artifacts)))
        .apply((versions) => mergeArtifactVersions(versions.map((artifacts, i) => ({ name: shipping[i].name, artifacts }))));

    // --- smoke, last ---------------------------------------------------------------------------------------
    // It drives the flows of SMOKE_FLOW_PREFIXES through what this update deployed (components/delivery/smokeCheck.ts).
    const smoke = config.smokeOnUp
        ? new SmokeCheck(
              "smoke",
              {
                  stage,
                  accountId,
                  region: config.region,
                  stackName: config.stackName,
                  releaseId: release,
                  inputBucket: buckets.inputBucket,
                  outputBucket: buckets.outputBucket,
                  metadataTableName: metadata.tableName,
                  metadataTableArn: metadata.tableArn,
                  kmsKeyArn: keyArn,
                  flows: SMOKE_FLOW_PREFIXES,
                  deployRoleArn: config.deployRoleArn,
                  flowResources: [buckets, metadata, glue, ...flows.flatMap((f) => f.smokeDependencies), inputNotifications],
              },
              opts,
          )
        : undefined;

    // --- outputs -------------------------------------------------------------------------------------------
    const platformPart = {
        name: "platform",
        outputs: {
            stage,
            accountId,
            region: config.region,
            releaseId: release,
            artifacts,
            inputBucket: buckets.inputBucket.bucket,
            outputBucket: buckets.outputBucket.bucket,
            assetsBucket: buckets.assetsBucket.bucket,
            kmsKeyArn: keyArn,
            metadataTable: metadata.tableName,
            glueDatabase: glue.databaseName,
            // Only ever a passing release: a failed check fails the update, which then exports nothing new.
            ...(smoke ? { smoke: smoke.result, smokeRoleArn: smoke.role.arn } : {}),
        },
    };

    return {
        ...(built as unknown as WorkloadFlows),
        buckets,
        metadata,
        glue,
        flows,
        inputNotifications,
        monitoring,
        artifacts,
        releaseId: release,
        smoke,
        outputs: mergeOutputs([platformPart, monitoringPart, ...flows]),
    };
}
