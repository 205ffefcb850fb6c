/**
 * The two metadata-record writes the claims flow needs beyond the shared ProcessingRecordStore: the
 * validation result on a claimed record, and the end of a claimed record whose file was quarantined.
 * Both are conditional on the claim still being ours (same `attempts`, still CLAIMED), like the store's
 * markStarted/markStartFailed, so an invocation whose lease was taken over cannot overwrite the newer one.
 *
 * Extra attributes beyond the shared contract: `validation_report_path` (s3:// URI of the report),
 * `quality_score` (0-100).
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ProcessingStatus, truncateErrorMessage, updateRecordIf } from "../shared/processingRecords";

export interface ValidationResultFields {
    readonly reportPath: string;
    readonly qualityScore: number;
    /** Records in the file (the validation's total_records). */
    readonly recordsValidated: number;
}

export class ClaimsRecordWriter {
    constructor(
        private readonly doc: DynamoDBDocumentClient,
        readonly tableName: string,
        private readonly now: () => Date = () => new Date(),
    ) {}

    /** Adds the validation result to claim `attempt`'s record. False when the claim is no longer ours. */
    async recordValidation(fileId: string, attempt: number, result: ValidationResultFields): Promise<boolean> {
        const written = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression: "SET validation_report_path = :report, quality_score = :score, records_validated = :records, updated_at = :now",
            ConditionExpression: "attempts = :attempt AND processing_status = :claimed",
            ExpressionAttributeValues: {
                ":report": result.reportPath,
                ":score": result.qualityScore,
                ":records": result.recordsValidated,
                ":now": this.now().toISOString(),
                ":attempt": attempt,
                ":claimed": ProcessingStatus.CLAIMED,
            },
        });
        return written !== undefined;
    }

    /**
     * Ends claim `attempt`'s record as REJECTED: the file failed validation and now sits at
     * `quarantinePath`. Terminal, like every REJECTED record. False when the claim is no longer ours.
     */
    async recordQuarantined(fileId: string, attempt: number, reason: string, quarantinePath: string): Promise<boolean> {
        const nowIso = this.now().toISOString();
        const written = await updateRecordIf(this.doc, this.tableName, fileId, {
            UpdateExpression:
                "SET processing_status = :rejected, error_message = :reason, quarantine_path = :quarantine, outcome = :outcome, " +
                "end_time = :now, updated_at = :now REMOVE lease_expires_at, output_file_path",
            ConditionExpression: "attempts = :attempt AND processing_status = :claimed",
            ExpressionAttributeValues: {
                ":rejected": ProcessingStatus.REJECTED,
                ":reason": truncateErrorMessage(reason),
                ":quarantine": quarantinePath,
                ":outcome": "QUARANTINED",
                ":now": nowIso,
                ":attempt": attempt,
                ":claimed": ProcessingStatus.CLAIMED,
            },
        });
        return written !== undefined;
    }
}
