/**
 * The checks of one claims file: its header (file-level, "schema" family) and each record (structure,
 * required fields, types, code formats, business rules), as pure functions of the compiled schema.
 *
 * A record may break several rules; every (rule, field) it breaks is reported, so the report says how
 * often each rule failed and the Glue job can quarantine the record with all its reasons. A business rule
 * is only evaluated on values that parsed: a malformed amount is one INVALID_DECIMAL, not also a
 * NEGATIVE_AMOUNT.
 */
import { CompiledField, CompiledSchema } from "./schema";

export interface Issue {
    readonly rule: string;
    /** The field the issue is about; absent for record-level issues (MALFORMED_ROW). */
    readonly field?: string;
    /** The offending value, trimmed and cut to 64 characters. */
    readonly value?: string;
}

export interface FileIssue {
    readonly rule: string;
    readonly message: string;
}

export interface HeaderAnalysis {
    /** Column position of each declared field present in the header. */
    readonly positions: ReadonlyMap<string, number>;
    /** The same, in the order of the schema's fields (undefined: the column is absent). */
    readonly fieldPositions: readonly (number | undefined)[];
    readonly width: number;
    readonly missingRequired: readonly string[];
    readonly missingOptional: readonly string[];
    readonly duplicates: readonly string[];
    readonly extra: readonly string[];
    readonly issues: readonly FileIssue[];
}

/** Header names as compared with the declared field names: BOM and surrounding space removed, lowercase. */
export function normaliseHeaderName(cell: string): string {
    return cell.replace(/^\uFEFF/, "").trim().toLowerCase();
}

export function analyseHeader(schema: CompiledSchema, cells: readonly string[]): HeaderAnalysis {
    const names = cells.map(normaliseHeaderName);
    const positions = new Map<string, number>();
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    names.forEach((name, i) => {
        if (seen.has(name)) duplicates.add(name);
        seen.add(name);
        if (schema.fieldsByName.has(name) && !positions.has(name)) positions.set(name, i);
    });
    const missingRequired = schema.fields.filter((f) => f.required && !positions.has(f.name)).map((f) => f.name);
    const missingOptional = schema.fields.filter((f) => !f.required && !positions.has(f.name)).map((f) => f.name);
    const extra = [...new Set(names.filter((n) => !schema.fieldsByName.has(n)))];
    const issues: FileIssue[] = [];
    if (missingRequired.length > 0) {
        issues.push({ rule: "MISSING_COLUMNS", message: `the header lacks the required column(s) ${missingRequired.join(", ")}` });
    }
    if (duplicates.size > 0) {
        issues.push({ rule: "DUPLICATE_COLUMNS", message: `the header names ${[...duplicates].join(", ")} more than once` });
    }
    const fieldPositions = schema.fields.map((f) => positions.get(f.name));
    return { positions, fieldPositions, width: cells.length, missingRequired, missingOptional, duplicates: [...duplicates], extra, issues };
}

/** A parsed value: integers and cents as numbers, dates as `YYYY-MM-DD` (which compare as strings). */
export type Parsed = number | string;

const preview = (value: string): string => (value.length <= 64 ? value : `${value.slice(0, 61)}...`);

/**
 * Check digit of an NPI (CMS: Luhn over the prefix 80840 and the first nine digits). `npi` is 10 digits.
 * The prefix's fixed contribution to the Luhn sum is 24.
 */
export function npiCheckDigitValid(npi: string): boolean {
    let sum = 24;
    for (let i = 0; i < 9; i++) {
        const digit = npi.charCodeAt(i) - 48;
        if (i % 2 === 0) {
            const doubled = digit * 2;
            sum += doubled > 9 ? doubled - 9 : doubled;
        } else sum += digit;
    }
    return (10 - (sum % 10)) % 10 === npi.charCodeAt(9) - 48;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** A calendar date in one of the declared formats as `YYYY-MM-DD`, or undefined. */
export function parseDate(schema: CompiledSchema, value: string): string | undefined {
    for (const format of schema.dateFormats) {
        const m = format.regex.exec(value);
        if (!m) continue;
        const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
        const [y, mo, d] = format.order === "ymd" ? [a, b, c] : [c, a, b];
        if (y < schema.minYear || y > schema.maxYear || mo < 1 || mo > 12 || d < 1) return undefined;
        const last = mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1];
        if (d > last) return undefined;
        return `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
    }
    return undefined;
}

/** A decimal with at most two places as whole cents (exact, unlike binary floating point). */
export function parseCents(value: string): number {
    const negative = value.startsWith("-");
    const [whole, fraction = ""] = (negative ? value.slice(1) : value).split(".");
    const cents = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
    // "-0.00" is zero cents, not negative zero (which would print as "-0.00" again).
    return negative && cents !== 0 ? -cents : cents;
}

/** Whitespace as Java's `\s` (what the job trims with): not JavaScript's wider Unicode set. */
const isJavaSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const EDGE_WHITESPACE = /^[ \t\n\x0B\f\r]+|[ \t\n\x0B\f\r]+$/g;

/** Normalises a raw value the way the job does before checking it: trimmed, upper-cased where declared. */
export function normaliseValue(field: CompiledField, raw: string | undefined): string {
    const text = raw ?? "";
    // Most values have no surrounding whitespace: skip the regular expression for them.
    const trimmed = text === "" || (!isJavaSpace(text.charCodeAt(0)) && !isJavaSpace(text.charCodeAt(text.length - 1))) ? text : text.replace(EDGE_WHITESPACE, "");
    return field.case === "upper" ? trimmed.toUpperCase() : trimmed;
}

function fieldIssue(rule: string, field: CompiledField, value: string): Issue {
    return { rule, field: field.name, value: preview(value) };
}

function checkField(schema: CompiledSchema, field: CompiledField, value: string, issues: Issue[]): Parsed | undefined {
    switch (field.type) {
        case "integer":
            // + 0: "-0" is the integer 0 (Spark's cast gives 0), not JavaScript's negative zero.
            if (schema.integer.test(value)) return Number(value) + 0;
            issues.push(fieldIssue(schema.declaration.types.integer.rule, field, value));
            return undefined;
        case "decimal":
            if (schema.decimal.test(value)) return parseCents(value);
            issues.push(fieldIssue(schema.declaration.types.decimal.rule, field, value));
            return undefined;
        case "date": {
            const date = parseDate(schema, value);
            if (date === undefined) issues.push(fieldIssue(schema.declaration.types.date.rule, field, value));
            return date;
        }
        default: {
            let rule: string | undefined;
            if (field.formatRegex && !field.formatRegex.test(value)) rule = "INVALID_FORMAT";
            else if (field.formatSpec?.check_digit === "npi_luhn" && !npiCheckDigitValid(value)) rule = "INVALID_NPI_CHECK_DIGIT";
            else if (field.allowedSet && !field.allowedSet.has(value)) rule = field.unknown_rule!;
            if (rule === undefined) return value;
            issues.push(fieldIssue(rule, field, value));
            return undefined;
        }
    }
}

type BusinessCheck = (parsed: readonly (Parsed | undefined)[], referenceDate: string, issues: Issue[]) => void;

const businessChecks = new WeakMap<CompiledSchema, readonly BusinessCheck[]>();

/** The business rules as checks over parsed values indexed like the schema's fields (built once per schema). */
function compileBusinessChecks(schema: CompiledSchema): readonly BusinessCheck[] {
    const cached = businessChecks.get(schema);
    if (cached) return cached;
    const index = (name: string) => schema.fields.findIndex((f) => f.name === name);
    const checks: BusinessCheck[] = [];
    for (const rule of schema.declaration.business_rules) {
        const report = (i: number, value: Parsed, issues: Issue[]) =>
            issues.push({ rule: rule.id, field: schema.fields[i].name, value: displayValue(value, schema, schema.fields[i].name) });
        const each = (fields: readonly string[], broken: (v: Parsed, ref: string) => boolean): BusinessCheck => {
            const at = fields.map(index);
            return (parsed, ref, issues) => {
                for (const i of at) if (parsed[i] !== undefined && broken(parsed[i]!, ref)) report(i, parsed[i]!, issues);
            };
        };
        switch (rule.kind) {
            case "non_negative":
                checks.push(each(rule.fields, (v) => (v as number) < 0));
                break;
            case "positive":
                checks.push(each(rule.fields, (v) => (v as number) < 1));
                break;
            case "not_in_future":
                checks.push(each(rule.fields, (v, ref) => (v as string) > ref));
                break;
            case "not_greater_than": {
                const than = index(rule.than);
                const at = rule.fields.map(index);
                checks.push((parsed, _ref, issues) => {
                    const limit = parsed[than];
                    if (limit === undefined) return;
                    for (const i of at) if (parsed[i] !== undefined && (parsed[i] as number) > (limit as number)) report(i, parsed[i]!, issues);
                });
                break;
            }
            case "not_after": {
                const field = index(rule.field);
                const than = index(rule.than);
                checks.push((parsed, _ref, issues) => {
                    if (parsed[field] !== undefined && parsed[than] !== undefined && (parsed[field] as string) > (parsed[than] as string)) report(field, parsed[field]!, issues);
                });
                break;
            }
        }
    }
    businessChecks.set(schema, checks);
    return checks;
}

/**
 * Every issue of one record. `referenceDate` (`YYYY-MM-DD`, UTC) is "today" for the not-in-future rule.
 * A record whose field count differs from the header's, or that is not closed, is MALFORMED_ROW only: its
 * values cannot be trusted to sit in the right columns.
 */
export function validateRecord(
    schema: CompiledSchema,
    header: HeaderAnalysis,
    fields: readonly string[],
    closed: boolean,
    referenceDate: string,
): Issue[] {
    return checkRecord(schema, header, fields, closed, referenceDate).issues;
}

/** A record's verdict and its parsed values (indexed like the schema's fields; undefined: empty or invalid). */
export interface RecordCheck {
    readonly issues: Issue[];
    readonly parsed: readonly (Parsed | undefined)[];
}

/** {@link validateRecord}, also returning the parsed values (what the claims job writes for a valid record). */
export function checkRecord(
    schema: CompiledSchema,
    header: HeaderAnalysis,
    fields: readonly string[],
    closed: boolean,
    referenceDate: string,
): RecordCheck {
    if (!closed || fields.length !== header.width) return { issues: [{ rule: "MALFORMED_ROW" }], parsed: [] };
    const issues: Issue[] = [];
    const declared = schema.fields;
    const parsed: (Parsed | undefined)[] = new Array(declared.length);
    for (let i = 0; i < declared.length; i++) {
        const field = declared[i];
        const position = header.fieldPositions[i];
        const value = normaliseValue(field, position === undefined ? undefined : fields[position]);
        if (value === "") {
            if (field.required) issues.push({ rule: "MISSING_REQUIRED_FIELD", field: field.name });
            continue;
        }
        parsed[i] = checkField(schema, field, value, issues);
    }
    for (const check of compileBusinessChecks(schema)) check(parsed, referenceDate, issues);
    return { issues, parsed };
}

/** Whole cents as the exact decimal text with two places (`-1234` → `-12.34`), without binary rounding. */
export function centsText(cents: number): string {
    const digits = String(Math.abs(cents)).padStart(3, "0");
    return `${cents < 0 ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

function displayValue(value: Parsed, schema: CompiledSchema, field: string): string {
    if (schema.fieldsByName.get(field)?.type === "decimal") return centsText(value as number);
    return String(value);
}

/** `YYYY-MM-DD` of a moment in UTC. */
export function utcDate(moment: Date): string {
    return moment.toISOString().slice(0, 10);
}
