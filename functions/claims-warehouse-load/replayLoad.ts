/**
 * Re-drives one event from the load function's dead-letter queue through the same logic, in-process (what
 * `npm run replay` does for each message; scripts/replay.ts drains the queue). Safe to repeat: a loaded run is
 * not loaded again, and a new attempt of a failed one replaces the file's rows in one transaction.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GlueClient } from "@aws-sdk/client-glue";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { Logger } from "../shared/logger";
import { WarehouseLoadConfig } from "./config";
import { createWarehouseLoadDeps, handleLoadEvent, LoadEvent } from "./load";

/** The stack outputs of a warehouse stack that a replay needs (stacks/flows/claims.ts exports them). */
export interface WarehouseReplayOutputs {
    readonly claimsWarehouseLoadDeadLetterQueue?: string;
    readonly claimsWarehouseWorkgroup?: string;
    readonly claimsWarehouseDatabase?: string;
    readonly claimsWarehouseCopyRoleArn?: string;
    readonly claimsBucket?: string;
    readonly claimsErrorTopicArn?: string;
    readonly metadataTable: string;
}

export interface WarehouseReplayTarget {
    readonly queueUrl: string;
    readonly config: WarehouseLoadConfig;
}

/** The queue and the function's configuration, or undefined for a stack without the warehouse. */
export function warehouseReplayTarget(outputs: WarehouseReplayOutputs): WarehouseReplayTarget | undefined {
    const o = outputs;
    if (!o.claimsWarehouseLoadDeadLetterQueue || !o.claimsWarehouseWorkgroup || !o.claimsWarehouseDatabase || !o.claimsWarehouseCopyRoleArn || !o.claimsBucket || !o.claimsErrorTopicArn) {
        return undefined;
    }
    return {
        queueUrl: o.claimsWarehouseLoadDeadLetterQueue,
        config: {
            workgroupName: o.claimsWarehouseWorkgroup,
            databaseName: o.claimsWarehouseDatabase,
            copyRoleArn: o.claimsWarehouseCopyRoleArn,
            dataBucket: o.claimsBucket,
            metadataTable: o.metadataTable,
            errorTopicArn: o.claimsErrorTopicArn,
            leaseSeconds: 960,
            reserveMs: 15000,
            logLevel: "INFO",
        },
    };
}

export interface WarehouseReplayClients {
    readonly s3: S3Client;
    readonly glue: GlueClient;
    readonly sns: SNSClient;
    readonly dynamodb: DynamoDBClient;
    readonly redshiftData: RedshiftDataClient;
}

export type ReplayLoadResult = { readonly result: "loaded" | "already-handled" | "failed" | "unrecognised"; readonly detail: string };

/** What a dead-letter message asks to load, for a dry run's listing; undefined when it is no load event. */
export function describeLoadEvent(event: unknown): string | undefined {
    const e = event as { source?: string; detail?: { jobRunId?: string; state?: string }; fileId?: string } | undefined;
    if (e?.source === "aws.glue" && typeof e.detail?.jobRunId === "string") return `run ${e.detail.jobRunId} ${e.detail.state ?? ""}`.trim();
    if (typeof e?.fileId === "string") return `file ${e.fileId}`;
    return undefined;
}

export async function replayLoad(event: unknown, target: WarehouseReplayTarget, clients: WarehouseReplayClients, logger: Logger): Promise<ReplayLoadResult> {
    const label = describeLoadEvent(event);
    if (label === undefined) return { result: "unrecognised", detail: "neither a Glue state change nor a { fileId } replay; left in the queue" };
    const deps = createWarehouseLoadDeps(target.config, { ...clients, logger });
    try {
        const outcome = await handleLoadEvent(event as LoadEvent, deps);
        if (outcome.kind === "loaded") return { result: "loaded", detail: `${label}: ${outcome.rowsLoaded} rows loaded, ${outcome.rowsReplaced} replaced` };
        return { result: "already-handled", detail: `${label}: ${outcome.kind === "skipped" ? outcome.reason : outcome.reason}` };
    } catch (err) {
        return { result: "failed", detail: `${label}: ${err instanceof Error ? err.message : String(err)}` };
    }
}
