/**
 * The warehouse load's bookkeeping on the file's metadata record (etl-pipeline-metadata-{stage}), beside what
 * the ETL wrote there. Every write is one conditional UpdateItem through the shared `updateRecordIf`, like the
 * claims validation's (functions/claims-validation/claimsRecords.ts):
 *
 *   warehouse_load_status   LOADING → LOADED | LOAD_FAILED
 *   warehouse_run_id        the Glue run whose output is (being) loaded
 *   warehouse_load_attempts counts claims; each later write is conditional on the attempt still being ours
 *   warehouse_statement_id  the Data API batch, kept so that a retried invocation follows it instead of
 *                           submitting a second one
 *   warehouse_rows_loaded, warehouse_rows_replaced, warehouse_loaded_at, warehouse_error, warehouse_lease_expires_at
 *
 * The claim rule: a load of run R may start when the record is SUCCEEDED for run R and R is not LOADED yet
 * (never loaded, loaded from an older run, failed, or LOADING under an expired lease). So a redelivered event
 * for a loaded run loads nothing; a replay of the ETL (a new run) loads again, replacing the file's rows.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ProcessingRecord, ProcessingRecordStore, ProcessingStatus, truncateErrorMessage, updateRecordIf } from "../shared/processingRecords";

export const WarehouseLoadStatus = {
    LOADING: "LOADING",
    LOADED: "LOADED",
    LOAD_FAILED: "LOAD_FAILED",
} as const;
export type WarehouseLoadStatus = (typeof WarehouseLoadStatus)[keyof typeof WarehouseLoadStatus];

/** The record with the warehouse attributes. */
export interface WarehouseRecord extends ProcessingRecord {
    readonly warehouse_load_status?: WarehouseLoadStatus;
    readonly warehouse_run_id?: string;
    readonly warehouse_load_attempts?: number;
    readonly warehouse_statement_id?: string;
    readonly warehouse_rows_loaded?: number;
    readonly warehouse_rows_replaced?: number;
    readonly warehouse_loaded_at?: string;
    readonly warehouse_error?: string;
    readonly warehouse_lease_expires_at?: string;
}

export type LoadClaim =
    /** Ours: `attempt` guards the later writes; `previous` is the record before the claim. */
    | { readonly claimed: true; readonly attempt: number; readonly previous: WarehouseRecord }
    | { readonly claimed: false; readonly existing: WarehouseRecord | undefined };

export interface LoadResult {
    readonly statementId: string;
    readonly rowsLoaded: number;
    readonly rowsReplaced: number;
}

export class WarehouseLoadRecords {
    private readonly store: ProcessingRecordStore;

    constructor(
        private readonly doc: DynamoDBDocumentClient,
        readonly tableName: string,
        private readonly now: () => Date = () => new Date(),
    ) {
        this.store = new ProcessingRecordStore(doc, tableName, now);
    }

    /** Claims the load of run `jobRunId` of `fileId` for `leaseSeconds` (longer than the invocation). */
    async claim(fileId: string, jobRunId: string, leaseSeconds: number): Promise<LoadClaim> {
        const now = this.now();
        const out = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression:
                "SET warehouse_load_status = :loading, warehouse_run_id = :run, warehouse_lease_expires_at = :lease, updated_at = :now " +
                "ADD warehouse_load_attempts :one REMOVE warehouse_error",
            ConditionExpression:
                "processing_status = :succeeded AND job_run_id = :run AND (attribute_not_exists(warehouse_load_status) OR warehouse_run_id <> :run " +
                "OR warehouse_load_status = :failed OR (warehouse_load_status = :loading AND warehouse_lease_expires_at < :now))",
            ExpressionAttributeValues: {
                ":loading": WarehouseLoadStatus.LOADING,
                ":failed": WarehouseLoadStatus.LOAD_FAILED,
                ":succeeded": ProcessingStatus.SUCCEEDED,
                ":run": jobRunId,
                ":now": now.toISOString(),
                ":lease": new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
                ":one": 1,
            },
            ReturnValues: "ALL_OLD",
        });
        if (!out) return { claimed: false, existing: await this.get(fileId) };
        const previous = (out.Attributes ?? {}) as WarehouseRecord;
        return { claimed: true, attempt: (previous.warehouse_load_attempts ?? 0) + 1, previous };
    }

    /** The record, read strongly consistent (the shared store's read). */
    async get(fileId: string): Promise<WarehouseRecord | undefined> {
        return (await this.store.get(fileId)) as WarehouseRecord | undefined;
    }

    private ours(jobRunId: string, attempt: number) {
        return {
            ConditionExpression: "warehouse_run_id = :run AND warehouse_load_attempts = :attempt AND warehouse_load_status = :loading",
            values: { ":run": jobRunId, ":attempt": attempt, ":loading": WarehouseLoadStatus.LOADING },
        };
    }

    /** Remembers the submitted batch, so a retry follows it rather than running the load twice at once. */
    async markSubmitted(fileId: string, jobRunId: string, attempt: number, statementId: string): Promise<boolean> {
        const { ConditionExpression, values } = this.ours(jobRunId, attempt);
        const out = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression: "SET warehouse_statement_id = :statement, updated_at = :now",
            ConditionExpression,
            ExpressionAttributeValues: { ...values, ":statement": statementId, ":now": this.now().toISOString() },
        });
        return out !== undefined;
    }

    async markLoaded(fileId: string, jobRunId: string, attempt: number, result: LoadResult): Promise<boolean> {
        const { ConditionExpression, values } = this.ours(jobRunId, attempt);
        const nowIso = this.now().toISOString();
        const out = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression:
                "SET warehouse_load_status = :loaded, warehouse_statement_id = :statement, warehouse_rows_loaded = :loaded_rows, " +
                "warehouse_rows_replaced = :replaced_rows, warehouse_loaded_at = :now, updated_at = :now REMOVE warehouse_lease_expires_at, warehouse_error",
            ConditionExpression,
            ExpressionAttributeValues: {
                ...values,
                ":loaded": WarehouseLoadStatus.LOADED,
                ":statement": result.statementId,
                ":loaded_rows": result.rowsLoaded,
                ":replaced_rows": result.rowsReplaced,
                ":now": nowIso,
            },
        });
        return out !== undefined;
    }

    async markFailed(fileId: string, jobRunId: string, attempt: number, error: string): Promise<boolean> {
        const { ConditionExpression, values } = this.ours(jobRunId, attempt);
        const out = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression: "SET warehouse_load_status = :failed, warehouse_error = :error, updated_at = :now REMOVE warehouse_lease_expires_at",
            ConditionExpression,
            ExpressionAttributeValues: { ...values, ":failed": WarehouseLoadStatus.LOAD_FAILED, ":error": truncateErrorMessage(error), ":now": this.now().toISOString() },
        });
        return out !== undefined;
    }
}
