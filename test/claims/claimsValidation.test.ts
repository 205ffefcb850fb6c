/**
 * ClaimsValidationLambda against the AWS emulator (moto over HTTP): a real versioned claims bucket, the
 * metadata table with its GSI, the claims Glue job, and the two SNS topics, each with an SQS queue
 * subscribed so the published messages are read back exactly as a subscriber receives them.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { ClaimsValidationConfig } from "../../functions/claims-validation/config";
import type { ValidationDeps, ValidationOverrides, ValidationSummary } from "../../functions/claims-validation/validation";
import { Logger } from "../../functions/shared/logger";
import { EventObject, lambdaContext, s3Event } from "../fixtures/s3Events";
import { EMULATOR_REGION, emulatorEnv, useEmulator } from "../support/emulator";

type ValidationModule = typeof import("../../functions/claims-validation/validation");

const BUCKET = "healthcare-claims-test-123456789012";
const TABLE = "etl-pipeline-metadata-test";
const JOB = "healthcare-claims-etl-test";
const SAMPLES = path.resolve(__dirname, "../../samples/claims");

const COLUMNS = [
    "claim_id", "claim_version", "patient_id", "provider_npi", "claim_type", "service_date", "paid_date", "diagnosis_code",
    "procedure_code", "billed_amount", "allowed_amount", "paid_amount", "units", "claim_status", "place_of_service",
];
const GOOD_ROW: Record<string, string> = {
    claim_id: "CLM-1", claim_version: "1", patient_id: "PAT-1", provider_npi: "1234567893", claim_type: "PROFESSIONAL",
    service_date: "2024-03-01", paid_date: "2024-03-20", diagnosis_code: "E11.9", procedure_code: "99213",
    billed_amount: "100.00", allowed_amount: "80.00", paid_amount: "64.00", units: "1", claim_status: "PAID", place_of_service: "11",
};

/** A claims CSV of `total` records whose first `bad` records get `change` applied. */
function claimsCsv(total: number, bad: number, change: (row: Record<string, string>) => Record<string, string> | string, columns = COLUMNS): string {
    const lines = [columns.join(",")];
    for (let i = 1; i <= total; i++) {
        const row: Record<string, string> = { ...GOOD_ROW, claim_id: `CLM-${String(i).padStart(5, "0")}` };
        const changed: Record<string, string> | string = i <= bad ? change(row) : row;
        lines.push(typeof changed === "string" ? changed : columns.map((c) => changed[c] ?? "").join(","));
    }
    return lines.join("\n") + "\n";
}

const fileIdOf = (key: string, version: string) => createHash("sha256").update(`${BUCKET}/${key}#${version}`).digest("hex");

describe("ClaimsValidationLambda against the emulator", function () {
    const aws = useEmulator();
    let validation: ValidationModule;
    let sns: SNSClient;
    let sqs: SQSClient;
    let s3: S3Client;
    let processingQueue: string;
    let errorQueue: string;
    let config: ClaimsValidationConfig;

    before(() => {
        validation = require("../../functions/claims-validation/validation");
        const common = { endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
        sns = new SNSClient(common);
        sqs = new SQSClient(common);
        s3 = aws.clients.s3;
    });

    async function topicWithQueue(name: string): Promise<{ topicArn: string; queueUrl: string }> {
        const topic = await sns.send(new CreateTopicCommand({ Name: name, Attributes: { KmsMasterKeyId: "alias/aws/sns" } }));
        const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-reader` }));
        const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }));
        await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: "sqs", Endpoint: attrs.Attributes!.QueueArn }));
        return { topicArn: topic.TopicArn!, queueUrl: queue.QueueUrl! };
    }

    beforeEach(async () => {
        await aws.createBucket(BUCKET, { versioned: true });
        await aws.createMetadataTable(TABLE);
        await aws.createGlueJob(JOB, { maxConcurrentRuns: 3, defaultArguments: { "--metadata_table": TABLE } });
        const processing = await topicWithQueue("healthcare-claims-processing-test");
        const errors = await topicWithQueue("healthcare-claims-errors-test");
        processingQueue = processing.queueUrl;
        errorQueue = errors.queueUrl;
        config = {
            glueJobName: JOB,
            metadataTable: TABLE,
            dataBucket: BUCKET,
            rawPrefix: "raw/claims/",
            fileSuffix: ".csv",
            processingTopicArn: processing.topicArn,
            errorTopicArn: errors.topicArn,
            minQualityScore: 95,
            maxIssueSamples: 20,
            maxRecordLines: 1000,
            claimLeaseSeconds: 960,
            startAttempts: 3,
            multipartCopyThresholdBytes: 5 * 1024 ** 3,
            logLevel: "DEBUG",
        };
    });

    function deps(overrides: ValidationOverrides & { readonly config?: Partial<ClaimsValidationConfig> } = {}): { deps: ValidationDeps; lines: any[] } {
        const lines: any[] = [];
        const { config: partial, ...rest } = overrides;
        return {
            lines,
            deps: validation.createValidationDeps(
                { ...config, ...partial },
                {
                    logger: new Logger({ service: "claims-validation", level: "DEBUG", sink: (l) => lines.push(JSON.parse(l)) }),
                    startBackoff: { baseDelayMs: 10, maxDelayMs: 20 },
                    publishBackoff: { baseDelayMs: 10, maxDelayMs: 20 },
                    sleep: async () => undefined,
                    functionName: "ClaimsValidationLambda-test",
                    ...rest,
                },
            ),
        };
    }

    async function upload(key: string, body: string | Buffer): Promise<EventObject & { versionId: string }> {
        const put = await aws.putObject(BUCKET, key, body);
        assert.ok(put.versionId, "the claims bucket is versioned");
        return { bucket: BUCKET, key, size: put.size, eTag: put.etag, versionId: put.versionId! };
    }

    /** Messages delivered to a topic's queue: the seed-format bodies and their SNS attributes. */
    async function messages(queueUrl: string): Promise<Array<{ body: any; subject?: string; attributes: Record<string, string> }>> {
        const out: any[] = [];
        for (;;) {
            const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
            if (!got.Messages?.length) return out;
            for (const m of got.Messages) {
                const envelope = JSON.parse(m.Body!);
                const attributes: Record<string, string> = {};
                for (const [k, v] of Object.entries(envelope.MessageAttributes ?? {})) attributes[k] = (v as any).Value;
                out.push({ body: JSON.parse(envelope.Message), subject: envelope.Subject, attributes });
            }
        }
    }

    async function readJson(key: string): Promise<any> {
        const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        return JSON.parse(await out.Body!.transformToString());
    }

    async function exists(key: string, versionId?: string): Promise<boolean> {
        try {
            await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
            return true;
        } catch {
            return false;
        }
    }

    const record = (fileId: string) => aws.getItem(TABLE, { file_id: fileId });

    const counts = (s: ValidationSummary) => ({ started: s.started, quarantined: s.quarantined, incomplete: s.incomplete, skipped: s.skipped, ignored: s.ignored, failed: s.failed });

    describe("a valid file (the bundled March sample: 80 records, 4 bad)", () => {
        it("writes the report, starts one run with the file's arguments, records STARTED and publishes STARTED", async () => {
            // Prepare
            const key = "raw/claims/2024/03/claims_2024_03.csv";
            const object = await upload(key, fs.readFileSync(path.join(SAMPLES, "claims_2024_03.csv")));
            const fileId = fileIdOf(key, object.versionId);
            const { deps: d } = deps();

            // Act
            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), d);

            // Assess: the decision
            assert.deepEqual(counts(summary), { started: 1, quarantined: 0, incomplete: 0, skipped: 0, ignored: 0, failed: 0 });
            const reportKey = `validation-reports/2024/03/claims_2024_03/${fileId}.json`;
            const report = await readJson(reportKey);
            assert.equal(report.validation_status, "success");
            assert.equal(report.report_location, `s3://${BUCKET}/${reportKey}`);
            assert.deepEqual(report.summary, { total_records: 80, valid_records: 76, error_records: 4 });
            assert.equal(report.quality_score, 95);
            assert.deepEqual(report.rule_counts, { INVALID_NPI_CHECK_DIGIT: 1, NEGATIVE_AMOUNT: 1, SERVICE_AFTER_PAID: 1, MALFORMED_ROW: 1 });
            assert.deepEqual(report.samples.map((s: any) => s.line_number).sort((a: number, b: number) => a - b), [12, 25, 51, 66]);
            assert.deepEqual(report.file, { bucket: BUCKET, key, version: object.versionId, size_bytes: object.size, file_id: fileId, s3_uri: `s3://${BUCKET}/${key}` });

            // the run
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            const root = `s3://${BUCKET}/`;
            assert.deepEqual(runs[0].Arguments, {
                "--metadata_table": TABLE,
                "--input_path": `${root}${key}`,
                "--output_path": `${root}processed/claims/`,
                "--aggregation_path": `${root}processed/aggregations/claims_monthly/`,
                "--quarantine_path": `${root}quarantine/records/2024/03/claims_2024_03/${fileId}/`,
                "--staging_path": `${root}temp/staging/${fileId}/`,
                "--source_file": key,
                "--source_version": object.versionId,
                "--file_id": fileId,
                "--validation_report": `${root}${reportKey}`,
            });

            // the record
            const item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.job_run_id, runs[0].Id);
            assert.equal(item?.job_name, JOB);
            assert.equal(item?.validation_report_path, `${root}${reportKey}`);
            assert.equal(item?.quality_score, 95);
            assert.equal(item?.records_validated, 80);
            assert.equal(item?.source_version, object.versionId);

            // the notifications
            const processing = await messages(processingQueue);
            assert.equal(processing.length, 1);
            assert.deepEqual(Object.keys(processing[0].body), ["event_type", "job_id", "status", "input_file", "timestamp"]);
            assert.equal(processing[0].body.event_type, "job_status_update");
            assert.equal(processing[0].body.job_id, runs[0].Id);
            assert.equal(processing[0].body.status, "STARTED");
            assert.equal(processing[0].body.input_file, `${root}${key}`);
            assert.match(processing[0].body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
            assert.equal(processing[0].attributes.file_id, fileId);
            assert.deepEqual(await messages(errorQueue), []);

            // the file stays where it landed
            assert.ok(await exists(key));
        });
    });

    describe("a file failing each rule family is quarantined with the reason", () => {
        const families: Array<[string, string, string | Buffer, RegExp]> = [
            ["schema: a required column missing", "MISSING_COLUMNS", claimsCsv(20, 0, (r) => r, COLUMNS.filter((c) => c !== "provider_npi")), /MISSING_COLUMNS: the header lacks the required column\(s\) provider_npi/],
            ["schema: header only", "NO_RECORDS", COLUMNS.join(",") + "\n", /NO_RECORDS/],
            ["schema: an empty file", "EMPTY_FILE", "", /EMPTY_FILE/],
            // Latin-1 "é" (0xE9) in a patient id: never decoded to U+FFFD and passed on; the claims job refuses it too.
            ["schema: bytes that are not UTF-8", "INVALID_ENCODING", Buffer.from(claimsCsv(20, 1, (r) => ({ ...r, patient_id: "PAT-\u00e9" })), "latin1"), /INVALID_ENCODING: the file is not UTF-8/],
            ["structure: records cut short", "MALFORMED_ROW", claimsCsv(20, 2, () => "CLM-X,1,PAT-1"), /QUALITY_BELOW_MINIMUM: 2 of 20 records.*90\.00/],
            ["required: empty patient ids", "MISSING_REQUIRED_FIELD", claimsCsv(20, 3, (r) => ({ ...r, patient_id: "" })), /3 of 20.*85\.00/],
            ["type: day-first dates", "INVALID_DATE", claimsCsv(20, 4, (r) => ({ ...r, service_date: "28/02/2024" })), /4 of 20.*80\.00/],
            ["format: wrong NPI check digits", "INVALID_NPI_CHECK_DIGIT", claimsCsv(20, 2, (r) => ({ ...r, provider_npi: "1234567890" })), /2 of 20.*90\.00/],
            ["business: negative amounts", "NEGATIVE_AMOUNT", claimsCsv(20, 5, (r) => ({ ...r, billed_amount: "-100.00", allowed_amount: "", paid_amount: "" })), /5 of 20.*75\.00/],
            ["business: unknown claim types", "UNKNOWN_CLAIM_TYPE", claimsCsv(20, 2, (r) => ({ ...r, claim_type: "VISION" })), /2 of 20.*90\.00/],
        ];
        for (const [title, rule, body, reason] of families) {
            it(title, async () => {
                // Prepare
                const key = `raw/claims/family/${rule.toLowerCase()}.csv`;
                const object = await upload(key, body);
                const fileId = fileIdOf(key, object.versionId);
                const { deps: d } = deps();

                // Act
                const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), d);

                // Assess
                assert.deepEqual(counts(summary), { started: 0, quarantined: 1, incomplete: 0, skipped: 0, ignored: 0, failed: 0 });
                const report = await readJson(`validation-reports/family/${rule.toLowerCase()}/${fileId}.json`);
                assert.equal(report.validation_status, "failed");
                assert.equal(report.decision.action, "quarantine");
                assert.match(report.decision.reasons.join("\n"), reason);
                const inReport = [...report.file_issues.map((i: any) => i.rule), ...Object.keys(report.rule_counts)];
                assert.ok(inReport.includes(rule), `${rule} in ${inReport}`);
                assert.deepEqual(await aws.jobRuns(JOB), []);
                const item = await record(fileId);
                assert.equal(item?.processing_status, "REJECTED");
                assert.equal(item?.outcome, "QUARANTINED");
                assert.equal(item?.quarantine_path, `s3://${BUCKET}/quarantine/files/family/${rule.toLowerCase()}/${fileId}.csv`);
                assert.match(item?.error_message as string, reason);
                const errors = await messages(errorQueue);
                assert.equal(errors.length, 1);
                assert.equal(errors[0].body.event_type, "error");
                assert.equal(errors[0].body.error_type, "ValidationError");
                assert.deepEqual(errors[0].body.context, { function_name: "ClaimsValidationLambda-test", file: key });
                assert.match(errors[0].body.error_message, reason);
                assert.deepEqual(await messages(processingQueue), []);
            });
        }
    });

    describe("a quarantined file (the bundled May sample: 20 records, 8 bad)", () => {
        it("is moved: same bytes under quarantine/files/, the raw key gone, its version kept and restorable", async () => {
            // Prepare
            const key = "raw/claims/2024/05/claims_2024_05_rejected.csv";
            const bytes = fs.readFileSync(path.join(SAMPLES, "claims_2024_05_rejected.csv"));
            const object = await upload(key, bytes);
            const fileId = fileIdOf(key, object.versionId);

            // Act
            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);

            // Assess
            assert.equal(summary.quarantined, 1);
            const report = await readJson(`validation-reports/2024/05/claims_2024_05_rejected/${fileId}.json`);
            assert.deepEqual(report.summary, { total_records: 20, valid_records: 12, error_records: 8 });
            assert.equal(report.quality_score, 60);
            const quarantineKey = `quarantine/files/2024/05/claims_2024_05_rejected/${fileId}.csv`;
            const copy = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: quarantineKey }));
            assert.deepEqual(Buffer.from(await copy.Body!.transformToByteArray()), bytes);
            assert.equal(copy.Metadata?.["source-version"], object.versionId);
            assert.equal(copy.Metadata?.["file-id"], fileId);
            assert.equal(decodeURIComponent(copy.Metadata?.["source-key"] ?? ""), key);
            assert.equal(await exists(key), false, "the raw key no longer shows the file");
            assert.equal(await exists(key, object.versionId), true, "the uploaded version is kept");
            const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }));
            assert.equal(versions.DeleteMarkers?.length, 1);
            assert.equal(versions.Versions?.length, 1);
        });

        it("does not hide a newer upload of the same key that lands while the file is validated", async () => {
            // Prepare: a client whose GetObject of the bad version is followed, on S3, by a newer upload.
            const key = "raw/claims/reupload.csv";
            const bad = await upload(key, claimsCsv(10, 5, (r) => ({ ...r, units: "0" })));
            const racing = new S3Client({ endpoint: aws.endpoint, region: EMULATOR_REGION, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
            let newerVersion: string | undefined;
            racing.middlewareStack.add(
                (next, context) => async (args) => {
                    const out = await next(args);
                    if (context.commandName === "GetObjectCommand" && newerVersion === undefined) {
                        const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: claimsCsv(10, 0, (r) => r) }));
                        newerVersion = put.VersionId;
                    }
                    return out;
                },
                { step: "initialize", name: "uploadNewerDuringValidation" },
            );

            // Act
            const summary = await validation.handleClaimsEvent(s3Event(bad), lambdaContext(300_000), deps({ s3: racing }).deps);

            // Assess
            assert.equal(summary.quarantined, 1);
            assert.ok(newerVersion, "the newer version was uploaded during validation");
            const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
            assert.equal(head.VersionId, newerVersion, "the newer version is still the current one");
        });

        it("copies a file above the single-copy threshold in parts", async function () {
            this.timeout(120_000);
            const key = "raw/claims/large.csv";
            const row = COLUMNS.map((c) => GOOD_ROW[c]).join(",");
            const bad = COLUMNS.map((c) => (c === "units" ? "0" : GOOD_ROW[c])).join(",");
            // ~11 MiB, half the records bad: three parts of at least 5 MiB.
            const lines = [COLUMNS.join(",")];
            while (lines.length * row.length < 11 * 1024 * 1024) lines.push(lines.length % 2 ? row : bad);
            const body = Buffer.from(lines.join("\n") + "\n");
            const object = await upload(key, body);
            const fileId = fileIdOf(key, object.versionId);

            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps({ config: { multipartCopyThresholdBytes: 5 * 1024 ** 2 } }).deps);

            assert.equal(summary.quarantined, 1);
            const copy = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `quarantine/files/large/${fileId}.csv` }));
            const copied = Buffer.from(await copy.Body!.transformToByteArray());
            assert.equal(copied.length, body.length);
            assert.ok(copied.equals(body));
            assert.match(copy.ETag ?? "", /-3"$/, "a multipart object of three parts");
        });
    });

    describe("a duplicate event", () => {
        it("is skipped: one run, one report version, one notification", async () => {
            const key = "raw/claims/dup.csv";
            const object = await upload(key, claimsCsv(10, 0, (r) => r));
            const fileId = fileIdOf(key, object.versionId);
            const { deps: d, lines } = deps();

            const first = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), d);
            const second = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), d);

            assert.equal(first.started, 1);
            assert.deepEqual(counts(second), { started: 0, quarantined: 0, incomplete: 0, skipped: 1, ignored: 0, failed: 0 });
            assert.equal((await aws.jobRuns(JOB)).length, 1);
            const reports = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `validation-reports/dup/${fileId}.json` }));
            assert.equal(reports.Versions?.length, 1);
            assert.equal((await messages(processingQueue)).length, 1);
            assert.equal((await record(fileId))?.attempts, 1);
            assert.ok(lines.some((l) => l.message === "duplicate delivery skipped" && l.existing_status === "STARTED"));
        });

        it("of a quarantined file is skipped too: the file stays quarantined once", async () => {
            const key = "raw/claims/dup-bad.csv";
            const object = await upload(key, "");
            await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);
            const again = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);
            assert.equal(again.skipped, 1);
            assert.equal((await messages(errorQueue)).length, 1);
        });
    });

    describe("when the job cannot be started", () => {
        it("records START_FAILED, publishes a StartJobError, fails the event; the retried delivery claims it again", async () => {
            const key = "raw/claims/nojob.csv";
            const object = await upload(key, claimsCsv(5, 0, (r) => r));
            const fileId = fileIdOf(key, object.versionId);

            await assert.rejects(
                validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps({ config: { glueJobName: "no-such-job" } }).deps),
                (err: Error) => err.name === "ValidationBatchError" && /EntityNotFoundException/.test(err.message),
            );
            assert.equal((await record(fileId))?.processing_status, "START_FAILED");
            const errors = await messages(errorQueue);
            assert.equal(errors.length, 1);
            assert.equal(errors[0].body.error_type, "StartJobError");

            const retried = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);
            assert.equal(retried.started, 1);
            const item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.attempts, 2);
        });
    });

    describe("a file whose job failed", () => {
        it("is left alone by a redelivered event and taken again by a replay", async () => {
            const key = "raw/claims/replay.csv";
            const object = await upload(key, claimsCsv(5, 0, (r) => r));
            const fileId = fileIdOf(key, object.versionId);
            await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);
            const first = (await record(fileId))?.job_run_id;
            await aws.putItem(TABLE, { ...(await record(fileId)), processing_status: "FAILED", error_message: "job died" });

            const redelivered = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);
            assert.equal(redelivered.skipped, 1);
            const replayed = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps({ allowFailedClaims: true }).deps);

            assert.equal(replayed.started, 1);
            const item = await record(fileId);
            assert.equal(item?.processing_status, "STARTED");
            assert.equal(item?.attempts, 2);
            assert.notEqual(item?.job_run_id, first);
            assert.equal((await aws.jobRuns(JOB)).length, 2);
        });
    });

    describe("when validation would outlast the invocation", () => {
        it("stops, leaves the file in place as START_FAILED and publishes a ValidationTimeout", async () => {
            const key = "raw/claims/slow.csv";
            const object = await upload(key, claimsCsv(50, 0, (r) => r));
            const fileId = fileIdOf(key, object.versionId);

            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(30_000), deps({ reserveMs: 60_000 }).deps);

            assert.equal(summary.incomplete, 1);
            assert.equal((await record(fileId))?.processing_status, "START_FAILED");
            assert.ok(await exists(key));
            assert.deepEqual(await aws.jobRuns(JOB), []);
            const errors = await messages(errorQueue);
            assert.equal(errors[0].body.error_type, "ValidationTimeout");
        });
    });

    describe("the version uploaded is the version validated, and keys are data (the triggers' shared rules)", () => {
        it("records an overwritten version SUPERSEDED without validating it, and validates and starts the newer one", async () => {
            // Prepare: a bad upload overwritten by a good one before the bad one's event is handled.
            const key = "raw/claims/2024/06/overwritten.csv";
            const older = await upload(key, claimsCsv(10, 5, (r) => ({ ...r, units: "0" })));
            const newer = await upload(key, claimsCsv(10, 0, (r) => r));

            // Act
            const summary = await validation.handleClaimsEvent(s3Event(older, newer), lambdaContext(300_000), deps().deps);

            // Assess
            assert.deepEqual({ ...counts(summary), notProcessed: summary.notProcessed }, { started: 1, quarantined: 0, incomplete: 0, skipped: 0, ignored: 0, failed: 0, notProcessed: 1 });
            const olderItem = await record(fileIdOf(key, older.versionId));
            assert.equal(olderItem?.processing_status, "SUPERSEDED");
            assert.match(String(olderItem?.error_message), new RegExp(`version ${older.versionId} is no longer current \\(version ${newer.versionId} is\\)`));
            assert.equal(await exists(`validation-reports/2024/06/overwritten/${fileIdOf(key, older.versionId)}.json`), false, "no report for the older version");
            const runs = await aws.jobRuns(JOB);
            assert.equal(runs.length, 1);
            assert.equal(runs[0].Arguments?.["--source_version"], newer.versionId);
            assert.deepEqual(await messages(errorQueue), [], "a superseded version is not an error");
        });

        it("records a deleted object SOURCE_DELETED: no report, no run, no notification", async () => {
            const key = "raw/claims/gone.csv";
            const object = await upload(key, claimsCsv(10, 0, (r) => r));
            await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);

            assert.equal(summary.notProcessed, 1);
            const item = await record(fileIdOf(key, object.versionId));
            assert.equal(item?.processing_status, "SOURCE_DELETED");
            assert.match(String(item?.error_message), /deleted before it was processed/);
            assert.equal((await aws.jobRuns(JOB)).length, 0);
            assert.deepEqual(await messages(errorQueue), []);
        });

        const unsafe: [name: string, key: string, reason: RegExp][] = [
            ["a '..' segment", "raw/claims/x/../../processed/claims/a.csv", /'\.\.' path segment/],
            ["'//'", "raw/claims//a.csv", /empty path segment/],
            ["a bidi override", "raw/claims/a\u202Evsc.csv", /bidirectional formatting character U\+202E/],
            ["a control character", "raw/claims/a\u0007.csv", /control character U\+0007/],
            ["a derived report key beyond S3's 1,024 bytes", `raw/claims/${"a".repeat(840)}.csv`, /derived (report|quarantine|record quarantine) key is \d+ bytes/],
        ];
        for (const [name, key, reason] of unsafe) {
            it(`rejects a key with ${name}: REJECTED with the reason, an InvalidKey error, no validation, no run`, async () => {
                const object = await upload(key, claimsCsv(10, 0, (r) => r));

                const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);

                assert.equal(summary.notProcessed, 1);
                const item = await record(fileIdOf(key, object.versionId));
                assert.equal(item?.processing_status, "REJECTED");
                assert.match(String(item?.error_message), reason);
                assert.equal((await aws.jobRuns(JOB)).length, 0);
                const errors = await messages(errorQueue);
                assert.equal(errors.length, 1);
                assert.equal(errors[0].body.error_type, "InvalidKey");
                assert.ok(await exists(key), "the file is left where it landed");
            });
        }

        it("accepts glob characters and passes the key to the job literally", async () => {
            const key = "raw/claims/2024/06/r[1]*{a,b}?.csv";
            const object = await upload(key, claimsCsv(10, 0, (r) => r));
            const fileId = fileIdOf(key, object.versionId);

            const summary = await validation.handleClaimsEvent(s3Event(object), lambdaContext(300_000), deps().deps);

            assert.equal(summary.started, 1);
            const args = (await aws.jobRuns(JOB))[0].Arguments;
            assert.equal(args?.["--input_path"], `s3://${BUCKET}/${key}`);
            assert.equal(args?.["--source_file"], key);
            assert.equal(args?.["--quarantine_path"], `s3://${BUCKET}/quarantine/records/2024/06/r[1]*{a,b}?/${fileId}/`);
        });
    });

    describe("objects that are not claims files", () => {
        it("are ignored: wrong prefix, wrong suffix, other bucket", async () => {
            const summary = await validation.handleClaimsEvent(
                s3Event(
                    { bucket: BUCKET, key: "validation-reports/x.csv" },
                    { bucket: BUCKET, key: "raw/claims/readme.txt" },
                    { bucket: "another-bucket", key: "raw/claims/a.csv" },
                ),
                lambdaContext(),
                deps().deps,
            );
            assert.deepEqual(counts(summary), { started: 0, quarantined: 0, incomplete: 0, skipped: 0, ignored: 3, failed: 0 });
        });
    });

    describe("handler.ts and the shipped bundle", () => {
        let bundlePath: string;
        const saved: Record<string, string | undefined> = {};
        let handlerEnv: Record<string, string>;

        before(() => {
            const { bundleFunction } = require("../../components/compute/lambdaBundle") as typeof import("../../components/compute/lambdaBundle");
            bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "claims-validation-")), "index.js");
            fs.writeFileSync(bundlePath, bundleFunction("functions/claims-validation/handler.ts").code);
        });

        beforeEach(() => {
            handlerEnv = {
                GLUE_JOB_NAME: JOB,
                METADATA_TABLE: TABLE,
                DATA_BUCKET: BUCKET,
                PROCESSING_TOPIC_ARN: config.processingTopicArn,
                ERROR_TOPIC_ARN: config.errorTopicArn,
                LOG_LEVEL: "ERROR",
            };
            for (const [name, value] of Object.entries(handlerEnv)) {
                saved[name] = process.env[name];
                process.env[name] = value;
            }
        });

        afterEach(() => {
            for (const [name, value] of Object.entries(saved)) {
                if (value === undefined) delete process.env[name];
                else process.env[name] = value;
            }
        });

        after(() => fs.rmSync(path.dirname(bundlePath), { recursive: true, force: true }));

        it("the esbuild bundle (schema included) validates a file and starts a run", async () => {
            const object = await upload("raw/claims/bundle.csv", claimsCsv(5, 0, (r) => r));
            const { handler } = require(bundlePath) as typeof import("../../functions/claims-validation/handler");
            const summary = (await handler(s3Event(object), lambdaContext(300_000) as never)) as ValidationSummary;
            assert.equal(summary.started, 1);
            assert.equal((await messages(processingQueue)).length, 1);
        });

        it("the esbuild bundle takes a batch from its queue: validates, starts, answers no failures", async () => {
            const object = await upload("raw/claims/queued.csv", claimsCsv(5, 0, (r) => r));
            const { handler } = require(bundlePath) as typeof import("../../functions/claims-validation/handler");
            const message = {
                messageId: "m1",
                receiptHandle: "rh-1",
                body: JSON.stringify(s3Event(object)),
                attributes: {},
                messageAttributes: {},
                md5OfBody: "",
                eventSource: "aws:sqs",
                eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:claims-validation-test",
                awsRegion: "eu-west-1",
            };
            const answer = await handler({ Records: [message] } as never, lambdaContext(300_000) as never);
            assert.deepEqual(answer, { batchItemFailures: [] });
            assert.equal((await messages(processingQueue)).length, 1);
        });

        it("the bundle fails its cold start naming each missing or invalid variable", () => {
            const { DATA_BUCKET: _b, ...env } = { ...process.env, ...emulatorEnv(aws.endpoint), ...handlerEnv };
            const result = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(bundlePath)})`], {
                env: { ...env, MIN_QUALITY_SCORE: "101", ERROR_TOPIC_ARN: "errors", NODE_NO_WARNINGS: "1" },
                encoding: "utf8",
            });
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /DATA_BUCKET is required but not set/);
            assert.match(result.stderr, /ERROR_TOPIC_ARN must be an SNS topic ARN/);
            assert.match(result.stderr, /MIN_QUALITY_SCORE must be a number from 0 to 100/);
        });
    });
});
