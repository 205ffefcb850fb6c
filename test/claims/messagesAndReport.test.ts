/**
 * The SNS message formats, field by field against the claims flow's specified examples, and the report's score and
 * pass/fail decision.
 */
import assert from "node:assert/strict";
import seed from "../fixtures/claims/seed_messages.json";
import { errorNotification, jobStatusUpdate, seedTimestamp, snsSubject } from "../../functions/claims-validation/messages";
import { decide, qualityScore, ValidationAccumulator } from "../../functions/claims-validation/report";
import { compileSchema } from "../../functions/claims-validation/schema";

const AT = new Date("2024-01-01T12:00:00.456Z");

/** Every key of `value` with the JS type of its value, nested objects flattened with dots. */
function shape(value: Record<string, unknown>, prefix = ""): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
        if (v !== null && typeof v === "object") Object.assign(out, shape(v as Record<string, unknown>, `${prefix}${k}.`));
        else out[`${prefix}${k}`] = typeof v;
    }
    return out;
}

describe("claims notifications", () => {
    describe("job_status_update", () => {
        for (const status of ["STARTED", "SUCCEEDED", "FAILED"] as const) {
            it(`${status}: the requirements' keys, types and key order, with the requirements' values where they are fixed`, () => {
                const out = jobStatusUpdate({ jobId: "jr_0123abcd", status, inputFile: "s3://bucket/key", at: AT });
                const body = JSON.parse(out.message);
                assert.deepEqual(Object.keys(body), Object.keys(seed.processing_notification));
                assert.deepEqual(shape(body), shape(seed.processing_notification));
                assert.equal(body.event_type, seed.processing_notification.event_type);
                assert.ok(seed.processing_notification.status.split("|").includes(body.status));
                assert.equal(body.status, status);
                assert.equal(body.job_id, "jr_0123abcd");
                assert.equal(body.input_file, seed.processing_notification.input_file);
                assert.equal(body.timestamp, seed.processing_notification.timestamp);
                assert.equal(out.attributes.event_type.StringValue, "job_status_update");
            });
        }

        it("rejects what the requirements' format cannot carry", () => {
            assert.throws(() => jobStatusUpdate({ jobId: "x", status: "RUNNING" as any, inputFile: "s3://b/k", at: AT }), /status RUNNING/);
            assert.throws(() => jobStatusUpdate({ jobId: "x", status: "STARTED", inputFile: "claims.csv", at: AT }), /not a URI/);
        });

        it("keeps extras out of the body and in message attributes", () => {
            const out = jobStatusUpdate({ jobId: "jr_1", status: "STARTED", inputFile: "s3://b/k.csv", at: AT, attributes: { file_id: "abc", quality_score: 97.5 } });
            assert.equal(Object.keys(JSON.parse(out.message)).length, 5);
            assert.deepEqual(out.attributes.file_id, { DataType: "String", StringValue: "abc" });
            assert.deepEqual(out.attributes.quality_score, { DataType: "Number", StringValue: "97.5" });
        });
    });

    describe("error", () => {
        it("the requirements' keys, types and order, context included", () => {
            const out = errorNotification({ errorMessage: "Error description", errorType: "ValidationError", functionName: "data-validation", file: "claims.csv", at: AT });
            const body = JSON.parse(out.message);
            assert.deepEqual(body, seed.error_notification);
            assert.deepEqual(Object.keys(body), Object.keys(seed.error_notification));
            assert.deepEqual(Object.keys(body.context), Object.keys(seed.error_notification.context));
        });

        it("bounds a long message and the subject, and refuses an error type that is not a class name", () => {
            const out = errorNotification({ errorMessage: "x".repeat(10_000), errorType: "ValidationError", functionName: "f", file: "é".repeat(200), at: AT });
            assert.equal(JSON.parse(out.message).error_message.length, 4000);
            assert.ok(out.subject.length <= 100 && /^[\x20-\x7E]+$/.test(out.subject));
            assert.throws(() => errorNotification({ errorMessage: "m", errorType: "bad type", functionName: "f", file: "k", at: AT }), /errorType/);
        });

        it("formats timestamps as the requirements do: UTC, to the second", () => {
            assert.equal(seedTimestamp(AT), "2024-01-01T12:00:00Z");
            assert.equal(snsSubject("a\nb"), "a?b");
        });
    });
});

describe("claims validation report", () => {
    const schema = compileSchema();

    it("scores the share of records without issues, to two decimals", () => {
        assert.deepEqual([qualityScore(950, 1000), qualityScore(2, 3), qualityScore(0, 0), qualityScore(76, 80)], [95, 66.67, 0, 95]);
    });

    describe("the decision", () => {
        const cases: Array<[string, Parameters<typeof decide>, boolean, RegExp | undefined]> = [
            ["passes at exactly the minimum", [[], 95, 100, 95], true, undefined],
            ["fails just below it", [[], 9499, 10000, 95], false, /QUALITY_BELOW_MINIMUM: 501 of 10000 records.*94\.99/],
            ["fails on any schema issue, whatever the score", [[{ rule: "MISSING_COLUMNS", message: "m" }], 10, 10, 95], false, /^MISSING_COLUMNS: m$/],
            ["fails a file without records", [[{ rule: "NO_RECORDS", message: "none" }], 0, 0, 0], false, /NO_RECORDS/],
            ["accepts everything with a minimum of 0 and no schema issue", [[], 0, 10, 0], true, undefined],
        ];
        for (const [title, args, passed, reason] of cases) {
            it(title, () => {
                const d = decide(...args);
                assert.equal(d.passed, passed);
                if (reason) assert.match(d.reasons.join("\n"), reason);
                else assert.deepEqual(d.reasons, []);
            });
        }
    });

    it("counts rule occurrences, records per family and per field, and keeps a bounded sample", () => {
        const acc = new ValidationAccumulator(schema, 2);
        acc.add(2, []);
        acc.add(3, [{ rule: "NEGATIVE_AMOUNT", field: "paid_amount", value: "-1.00" }, { rule: "NEGATIVE_AMOUNT", field: "billed_amount", value: "-2.00" }]);
        acc.add(4, [{ rule: "MALFORMED_ROW" }, { rule: "INVALID_DATE", field: "paid_date", value: "x" }]);
        assert.deepEqual([acc.totalRecords, acc.validRecords, acc.errorRecords], [3, 1, 2]);
        assert.deepEqual(acc.ruleCounts, { NEGATIVE_AMOUNT: 2, MALFORMED_ROW: 1, INVALID_DATE: 1 });
        assert.deepEqual(acc.familyRecordCounts, { business: 1, structure: 1, type: 1 });
        assert.deepEqual(acc.fieldCounts, { paid_amount: 1, billed_amount: 1, paid_date: 1 });
        assert.deepEqual(acc.samples.map((s) => s.line_number), [3, 3]);
    });
});
