/**
 * The claims schema and rules as the validation Lambda applies them: each rule family on hand-made
 * records, the declaration's consistency, and the verdict on every record of the bundled sample files
 * against samples/claims/expected.json (the Glue job's tests check the same file).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { readAllRecords } from "../../functions/claims-validation/csvRecords";
import {
    analyseHeader,
    npiCheckDigitValid,
    parseCents,
    parseDate,
    validateRecord,
} from "../../functions/claims-validation/rules";
import { CLAIMS_SCHEMA, ClaimsSchemaDeclaration, compileSchema } from "../../functions/claims-validation/schema";

const SAMPLES = path.resolve(__dirname, "../../samples/claims");
const schema = compileSchema();
const COLUMNS = schema.fields.map((f) => f.name);
const header = analyseHeader(schema, COLUMNS);
const TODAY = "2025-06-30";

const VALID: Record<string, string> = {
    claim_id: "CLM-1",
    claim_version: "1",
    patient_id: "PAT-00001",
    provider_npi: "1234567893",
    claim_type: "PROFESSIONAL",
    service_date: "2024-03-01",
    paid_date: "2024-03-20",
    diagnosis_code: "E11.9",
    procedure_code: "99213",
    billed_amount: "100.00",
    allowed_amount: "80.00",
    paid_amount: "64.00",
    units: "1",
    claim_status: "PAID",
    place_of_service: "11",
};

/** The issues of VALID with `changes` applied, as `RULE:field` strings. */
function issuesOf(changes: Record<string, string>): string[] {
    const row = { ...VALID, ...changes };
    return validateRecord(schema, header, COLUMNS.map((c) => row[c]), true, TODAY).map((i) => (i.field ? `${i.rule}:${i.field}` : i.rule));
}

describe("claims rules", () => {
    describe("the declaration", () => {
        it("compiles, and every rule it names is declared with a family", () => {
            assert.equal(schema.fields.length, 15);
            for (const rule of CLAIMS_SCHEMA.rules) assert.ok(["schema", "structure", "required", "type", "format", "business"].includes(rule.family), rule.id);
        });

        it("rejects a declaration that names an undeclared rule or field", () => {
            const broken = (change: (d: any) => void) => {
                const copy = structuredClone(CLAIMS_SCHEMA) as any;
                change(copy);
                return () => compileSchema(copy as ClaimsSchemaDeclaration);
            };
            assert.throws(broken((d) => (d.business_rules[0].id = "NOPE")), /rule NOPE/);
            assert.throws(broken((d) => (d.business_rules[2].than = "nope")), /field nope/);
            assert.throws(broken((d) => (d.fields[0].format = "nope")), /unknown format nope/);
        });
    });

    describe("a valid record", () => {
        it("has no issues, with optional fields empty too", () => {
            assert.deepEqual(issuesOf({}), []);
            assert.deepEqual(issuesOf({ claim_version: "", paid_date: "", allowed_amount: "", paid_amount: "", units: "", claim_status: "", place_of_service: "" }), []);
        });

        it("is normalised before it is checked: trimmed, upper-cased codes, other date formats, ICD-10 without the dot", () => {
            assert.deepEqual(issuesOf({ claim_type: " professional ", diagnosis_code: "e119", service_date: "03/01/2024", paid_date: "20240320" }), []);
        });
    });

    describe("each rule family", () => {
        const cases: Array<[string, Record<string, string>, string[]]> = [
            ["required: an empty required field", { patient_id: "  " }, ["MISSING_REQUIRED_FIELD:patient_id"]],
            ["type: a non-integer", { units: "1.5" }, ["INVALID_INTEGER:units"]],
            ["type: a decimal with three places", { billed_amount: "10.001" }, ["INVALID_DECIMAL:billed_amount"]],
            ["type: a decimal with a thousands separator", { billed_amount: "1,000.00" }, ["INVALID_DECIMAL:billed_amount"]],
            ["type: the 30th of February", { service_date: "2024-02-30" }, ["INVALID_DATE:service_date"]],
            ["type: a day-first date", { service_date: "31/03/2024" }, ["INVALID_DATE:service_date"]],
            ["type: a year out of range", { paid_date: "1899-12-31" }, ["INVALID_DATE:paid_date"]],
            ["format: an ICD-10 code starting with a digit", { diagnosis_code: "250.00" }, ["INVALID_FORMAT:diagnosis_code"]],
            ["format: a CPT code of 4 digits", { procedure_code: "9921" }, ["INVALID_FORMAT:procedure_code"]],
            ["format: an NPI of 9 digits", { provider_npi: "123456789" }, ["INVALID_FORMAT:provider_npi"]],
            ["format: an NPI with a wrong check digit", { provider_npi: "1234567890" }, ["INVALID_NPI_CHECK_DIGIT:provider_npi"]],
            ["format: a one-digit place of service", { place_of_service: "1" }, ["INVALID_FORMAT:place_of_service"]],
            ["business: an unknown claim type", { claim_type: "VISION" }, ["UNKNOWN_CLAIM_TYPE:claim_type"]],
            ["business: an unknown claim status", { claim_status: "LOST" }, ["UNKNOWN_CLAIM_STATUS:claim_status"]],
            ["business: a negative amount", { paid_amount: "-1.00" }, ["NEGATIVE_AMOUNT:paid_amount"]],
            ["business: zero units", { units: "0" }, ["NON_POSITIVE_COUNT:units"]],
            ["business: paid above billed", { paid_amount: "100.01", allowed_amount: "" }, ["AMOUNT_EXCEEDS_BILLED:paid_amount"]],
            ["business: service after paid", { service_date: "2024-03-21" }, ["SERVICE_AFTER_PAID:service_date"]],
            ["business: a service date in the future", { service_date: "2025-07-01", paid_date: "" }, ["FUTURE_SERVICE_DATE:service_date"]],
        ];
        for (const [title, changes, expected] of cases) it(title, () => assert.deepEqual(issuesOf(changes), expected));

        it("reports every issue of a record, and no business rule on a value that did not parse", () => {
            assert.deepEqual(issuesOf({ billed_amount: "-5", paid_amount: "abc", claim_type: "", service_date: "2024-04-01" }), [
                "MISSING_REQUIRED_FIELD:claim_type",
                "INVALID_DECIMAL:paid_amount",
                "NEGATIVE_AMOUNT:billed_amount",
                "AMOUNT_EXCEEDS_BILLED:allowed_amount",
                "SERVICE_AFTER_PAID:service_date",
            ]);
        });

        it("structure: a record with the wrong field count or an unclosed quote is MALFORMED_ROW only", () => {
            assert.deepEqual(validateRecord(schema, header, ["only", "three", "fields"], true, TODAY), [{ rule: "MALFORMED_ROW" }]);
            assert.deepEqual(validateRecord(schema, header, COLUMNS.map((c) => VALID[c]), false, TODAY), [{ rule: "MALFORMED_ROW" }]);
        });
    });

    describe("the header", () => {
        it("finds columns in any order and case, reports missing, duplicate and extra ones", () => {
            const cells = ["\uFEFFClaim_ID", "patient_id", "notes", "PATIENT_ID", ...COLUMNS.filter((c) => !["claim_id", "patient_id", "provider_npi", "units"].includes(c))];
            const a = analyseHeader(schema, cells);
            assert.equal(a.positions.get("claim_id"), 0);
            assert.equal(a.positions.get("patient_id"), 1);
            assert.deepEqual(a.missingRequired, ["provider_npi"]);
            assert.deepEqual(a.missingOptional, ["units"]);
            assert.deepEqual(a.duplicates, ["patient_id"]);
            assert.deepEqual(a.extra, ["notes"]);
            assert.deepEqual(a.issues.map((i) => i.rule), ["MISSING_COLUMNS", "DUPLICATE_COLUMNS"]);
        });

        it("treats a missing optional column as empty values", () => {
            const without = COLUMNS.filter((c) => c !== "units");
            const h = analyseHeader(schema, without);
            assert.deepEqual(h.issues, []);
            assert.deepEqual(validateRecord(schema, h, without.map((c) => VALID[c]), true, TODAY), []);
        });
    });

    describe("value parsing", () => {
        it("checks NPI check digits (CMS examples)", () => {
            assert.equal(npiCheckDigitValid("1234567893"), true);
            assert.equal(npiCheckDigitValid("1234567890"), false);
            assert.equal(npiCheckDigitValid("1245319599"), true);
        });

        it("parses amounts to exact cents and dates to ISO form", () => {
            assert.deepEqual(["0.1", "10", "-3.05", "1234567890.99"].map(parseCents), [10, 1000, -305, 123456789099]);
            assert.equal(parseDate(schema, "02/29/2024"), "2024-02-29");
            assert.equal(parseDate(schema, "02/29/2023"), undefined);
            assert.equal(parseDate(schema, "20000229"), "2000-02-29");
            assert.equal(parseDate(schema, "19000229"), undefined);
        });
    });

    describe("the bundled sample files", () => {
        const expected = JSON.parse(fs.readFileSync(path.join(SAMPLES, "expected.json"), "utf8")) as Record<string, Record<string, string[]>>;
        for (const [file, bad] of Object.entries(expected)) {
            it(`${file}: exactly the expected records break exactly the expected rules`, () => {
                const [head, ...records] = readAllRecords(fs.readFileSync(path.join(SAMPLES, file), "utf8"));
                const h = analyseHeader(schema, head.fields);
                assert.deepEqual(h.issues, []);
                const found: Record<string, string[]> = {};
                for (const r of records) {
                    const issues = validateRecord(schema, h, r.fields, r.closed, TODAY).map((i) => (i.field ? `${i.rule}:${i.field}` : i.rule));
                    if (issues.length > 0) found[String(r.lineNumber)] = issues;
                }
                assert.deepEqual(found, bad);
            });
        }
    });
});
