/**
 * The claims corpus (test/fixtures/claims/corpus/): hostile claims CSVs and the verdicts and parsed values
 * written by hand in expected.json. The claims ETL's test (glue/tests/test_claims_corpus.py) reads the same
 * files and the same expectations, so the validation Lambda and the job cannot disagree on a record without
 * one of the two tests failing.
 *
 * The files go through the Lambda's own stream validation (validateStream: byte decoding, record reading,
 * header analysis, record checks) in small chunks, so multi-byte characters and CRLF pairs are split across
 * chunk boundaries.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { centsText, Parsed, RecordCheck } from "../../functions/claims-validation/rules";
import { compileSchema } from "../../functions/claims-validation/schema";
import { validateStream } from "../../functions/claims-validation/validation";

const CORPUS = path.resolve(__dirname, "../fixtures/claims/corpus");

interface ExpectedRecord {
    readonly line: number;
    readonly case: string;
    readonly issues: readonly string[];
    readonly values?: Readonly<Record<string, string | number | null>>;
    readonly note_sha256?: string;
}
interface ExpectedFile {
    readonly file_issues: readonly string[];
    readonly records: readonly ExpectedRecord[];
}
const expected = JSON.parse(fs.readFileSync(path.join(CORPUS, "expected.json"), "utf8")) as {
    reference_date: string;
    files: Record<string, ExpectedFile>;
};

const schema = compileSchema();

/** A parsed value as the corpus writes it: amounts as exact two-place text, empty as null. */
function corpusValue(type: string, value: Parsed | undefined): string | number | null {
    if (value === undefined) return null;
    return type === "decimal" ? centsText(value as number) : value;
}

async function validateFile(name: string) {
    const records: { line: number; issues: string[]; values: Record<string, string | number | null>; fields: readonly string[] }[] = [];
    const onRecord = (line: number, check: RecordCheck, fields: readonly string[]) =>
        records.push({
            line,
            fields,
            issues: check.issues.map((i) => (i.field ? `${i.rule}:${i.field}` : i.rule)),
            values: Object.fromEntries(schema.fields.map((f, i) => [f.name, corpusValue(f.type, check.parsed[i])])),
        });
    const result = await validateStream(fs.createReadStream(path.join(CORPUS, name), { highWaterMark: 61 }), {
        schema,
        referenceDate: expected.reference_date,
        maxRecordLines: 1000,
        maxIssueSamples: 50,
        onRecord,
    });
    return { result, records };
}

describe("claims corpus: the validation Lambda's verdicts", () => {
    for (const [name, file] of Object.entries(expected.files)) {
        it(`${name}: ${file.file_issues.length ? `rejected as ${file.file_issues.join(", ")}` : `${file.records.length} records`}`, async () => {
            const { result, records } = await validateFile(name);

            assert.deepEqual(result.fileIssues.map((i) => i.rule), file.file_issues);
            if (file.file_issues.length) return; // a rejected file's records are never judged one by one
            assert.deepEqual(records.map((r) => r.line), file.records.map((r) => r.line), "records start on the expected lines");
            file.records.forEach((want, i) => {
                assert.deepEqual(records[i].issues, want.issues, `line ${want.line} (${want.case})`);
                if (want.values) assert.deepEqual(records[i].values, want.values, `values of line ${want.line} (${want.case})`);
                if (want.note_sha256) {
                    const note = records[i].fields[result.header.indexOf("note")];
                    assert.equal(createHash("sha256").update(note, "utf8").digest("hex"), want.note_sha256, `note of line ${want.line} byte for byte`);
                }
            });
        });
    }

    it("every file of the corpus has expectations (none is silently skipped)", () => {
        const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith(".csv")).sort();
        assert.deepEqual(files, Object.keys(expected.files).sort());
    });

    it("amounts print exactly", () => {
        assert.deepEqual([0, 5, -5, 1234, -100, 999999999999].map(centsText), ["0.00", "0.05", "-0.05", "12.34", "-1.00", "9999999999.99"]);
    });
});
