/**
 * The validation report of one claims file: counts accumulated record by record (constant memory, apart
 * from a bounded list of sample issues), the quality score, the pass/fail decision and the JSON document
 * written under `validation-reports/`.
 *
 * Quality score: the percentage of records that break no rule, `100 × valid_records / total_records`,
 * rounded to two decimals (0 for a file without records).
 *
 * Decision: a file passes when
 *   1. it has no file-level (schema family) issue — no missing required column, no duplicate column, a
 *      header, at least one record; and
 *   2. its quality score is at least the configured minimum (default 95).
 * A file that passes goes to the Glue job, which quarantines its remaining bad records one by one. A file
 * that fails is quarantined whole: below the threshold, bad records are a symptom of a broken extract
 * (shifted columns, a changed export format) that a person should look at before anything is loaded.
 */
import { CompiledSchema, familyOf, RuleFamily } from "./schema";
import { FileIssue, HeaderAnalysis, Issue } from "./rules";

/** One sampled issue: where, which rule, which field, which value. */
export interface IssueSample {
    readonly line_number: number;
    readonly rule: string;
    readonly field?: string;
    readonly value?: string;
}

export class ValidationAccumulator {
    totalRecords = 0;
    validRecords = 0;
    /** Occurrences of each rule (a record breaking a rule on two fields counts twice). */
    readonly ruleCounts: Record<string, number> = {};
    /** Records with at least one issue of each family. */
    readonly familyRecordCounts: Partial<Record<RuleFamily, number>> = {};
    /** Occurrences of issues per field. */
    readonly fieldCounts: Record<string, number> = {};
    readonly samples: IssueSample[] = [];

    constructor(
        private readonly schema: CompiledSchema,
        private readonly maxSamples: number,
    ) {}

    add(lineNumber: number, issues: readonly Issue[]): void {
        this.totalRecords++;
        if (issues.length === 0) {
            this.validRecords++;
            return;
        }
        const families = new Set<RuleFamily>();
        for (const issue of issues) {
            this.ruleCounts[issue.rule] = (this.ruleCounts[issue.rule] ?? 0) + 1;
            families.add(familyOf(this.schema, issue.rule));
            if (issue.field !== undefined) this.fieldCounts[issue.field] = (this.fieldCounts[issue.field] ?? 0) + 1;
            if (this.samples.length < this.maxSamples) {
                this.samples.push({
                    line_number: lineNumber,
                    rule: issue.rule,
                    ...(issue.field !== undefined ? { field: issue.field } : {}),
                    ...(issue.value !== undefined ? { value: issue.value } : {}),
                });
            }
        }
        for (const family of families) this.familyRecordCounts[family] = (this.familyRecordCounts[family] ?? 0) + 1;
    }

    get errorRecords(): number {
        return this.totalRecords - this.validRecords;
    }
}

export function qualityScore(validRecords: number, totalRecords: number): number {
    if (totalRecords <= 0) return 0;
    return Math.round((10000 * validRecords) / totalRecords) / 100;
}

export interface Decision {
    readonly passed: boolean;
    /** Why the file failed (empty when it passed). */
    readonly reasons: readonly string[];
}

export function decide(fileIssues: readonly FileIssue[], validRecords: number, totalRecords: number, minQualityScore: number): Decision {
    const reasons = fileIssues.map((i) => `${i.rule}: ${i.message}`);
    const score = qualityScore(validRecords, totalRecords);
    // A schema failure already says why; a score over no records would only repeat it.
    if (fileIssues.length === 0 && score < minQualityScore) {
        reasons.push(
            `QUALITY_BELOW_MINIMUM: ${totalRecords - validRecords} of ${totalRecords} records break a rule; ` +
                `quality score ${score.toFixed(2)} is below the minimum of ${minQualityScore}`,
        );
    }
    return { passed: reasons.length === 0, reasons };
}

export interface ReportFile {
    readonly bucket: string;
    readonly key: string;
    readonly version: string;
    readonly size_bytes: number;
    readonly file_id: string;
}

export interface ValidationReport {
    /** The requirements' output fields. */
    readonly validation_status: "success" | "failed";
    readonly report_location: string;
    readonly summary: { readonly total_records: number; readonly valid_records: number; readonly error_records: number };
    readonly quality_score: number;
    readonly min_quality_score: number;
    readonly decision: { readonly passed: boolean; readonly reasons: readonly string[]; readonly action: "start_etl" | "quarantine" };
    readonly file: ReportFile & { readonly s3_uri: string };
    readonly schema: { readonly name: string; readonly version: number };
    readonly columns: {
        readonly header: readonly string[];
        readonly missing_required: readonly string[];
        readonly missing_optional: readonly string[];
        readonly duplicates: readonly string[];
        readonly extra: readonly string[];
    };
    readonly file_issues: readonly FileIssue[];
    readonly rule_counts: Readonly<Record<string, number>>;
    readonly family_record_counts: Readonly<Record<string, number>>;
    readonly field_counts: Readonly<Record<string, number>>;
    readonly samples: readonly IssueSample[];
    readonly samples_truncated: boolean;
    /** Physical lines read, header and blank lines included. */
    readonly lines_read: number;
    readonly reference_date: string;
    readonly validated_at: string;
    readonly duration_ms: number;
}

export interface ReportInputs {
    readonly schema: CompiledSchema;
    readonly file: ReportFile;
    readonly reportLocation: string;
    readonly header: readonly string[];
    /** Undefined when the file had no header to analyse. */
    readonly analysis?: HeaderAnalysis;
    readonly fileIssues: readonly FileIssue[];
    readonly accumulator: ValidationAccumulator;
    readonly minQualityScore: number;
    readonly linesRead: number;
    readonly referenceDate: string;
    readonly validatedAt: Date;
    readonly durationMs: number;
}

/** Builds the report (and so the decision) from what the validation accumulated. */
export function buildReport(inputs: ReportInputs): ValidationReport {
    const acc = inputs.accumulator;
    const decision = decide(inputs.fileIssues, acc.validRecords, acc.totalRecords, inputs.minQualityScore);
    return {
        validation_status: decision.passed ? "success" : "failed",
        report_location: inputs.reportLocation,
        summary: { total_records: acc.totalRecords, valid_records: acc.validRecords, error_records: acc.errorRecords },
        quality_score: qualityScore(acc.validRecords, acc.totalRecords),
        min_quality_score: inputs.minQualityScore,
        decision: { ...decision, action: decision.passed ? "start_etl" : "quarantine" },
        file: { ...inputs.file, s3_uri: `s3://${inputs.file.bucket}/${inputs.file.key}` },
        schema: { name: inputs.schema.declaration.name, version: inputs.schema.declaration.version },
        columns: {
            header: inputs.header,
            missing_required: inputs.analysis?.missingRequired ?? [],
            missing_optional: inputs.analysis?.missingOptional ?? [],
            duplicates: inputs.analysis?.duplicates ?? [],
            extra: inputs.analysis?.extra ?? [],
        },
        file_issues: inputs.fileIssues,
        rule_counts: acc.ruleCounts,
        family_record_counts: acc.familyRecordCounts,
        field_counts: acc.fieldCounts,
        samples: acc.samples,
        samples_truncated: Object.values(acc.ruleCounts).reduce((a, b) => a + b, 0) > acc.samples.length,
        lines_read: inputs.linesRead,
        reference_date: inputs.referenceDate,
        validated_at: inputs.validatedAt.toISOString(),
        duration_ms: inputs.durationMs,
    };
}
