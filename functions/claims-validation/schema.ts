/**
 * The declared claims schema, compiled for fast per-record checks.
 *
 * The declaration itself is glue/lib/glue_pipeline/claims_schema.json: one file read by this Lambda and by
 * the claims Glue job, so the gate that admits a file and the job that splits its records apply the same
 * fields, formats and rules (bundled by esbuild into the function; zipped with the Glue library).
 */
import declared from "../../glue/lib/glue_pipeline/claims_schema.json";

export type FieldType = "string" | "integer" | "decimal" | "date";
export type RuleFamily = "schema" | "structure" | "required" | "type" | "format" | "business";

export interface FieldSpec {
    readonly name: string;
    readonly type: FieldType;
    readonly required: boolean;
    readonly case?: "upper";
    readonly format?: string;
    readonly allowed?: readonly string[];
    readonly unknown_rule?: string;
    readonly default?: number;
}

export interface FormatSpec {
    readonly pattern: string;
    readonly description: string;
    readonly check_digit?: "npi_luhn";
}

export interface DateFormatSpec {
    readonly pattern: string;
    readonly order: "ymd" | "mdy";
    readonly example: string;
}

export type BusinessRuleSpec =
    | { readonly id: string; readonly kind: "non_negative" | "positive" | "not_in_future"; readonly fields: readonly string[]; readonly description: string }
    | { readonly id: string; readonly kind: "not_greater_than"; readonly fields: readonly string[]; readonly than: string; readonly description: string }
    | { readonly id: string; readonly kind: "not_after"; readonly field: string; readonly than: string; readonly description: string };

export interface RuleSpec {
    readonly id: string;
    readonly family: RuleFamily;
    readonly level: "file" | "row";
    readonly description: string;
}

export interface ClaimsSchemaDeclaration {
    readonly name: string;
    readonly version: number;
    readonly fields: readonly FieldSpec[];
    readonly formats: Readonly<Record<string, FormatSpec>>;
    readonly types: {
        readonly integer: { readonly pattern: string; readonly rule: string };
        readonly decimal: { readonly pattern: string; readonly rule: string };
        readonly date: {
            readonly rule: string;
            readonly formats: readonly DateFormatSpec[];
            readonly min_year: number;
            readonly max_year: number;
        };
    };
    readonly business_rules: readonly BusinessRuleSpec[];
    readonly rules: readonly RuleSpec[];
}

/** The schema as declared (the JSON file), typed. */
export const CLAIMS_SCHEMA = declared as unknown as ClaimsSchemaDeclaration;

export interface CompiledField extends FieldSpec {
    readonly formatRegex?: RegExp;
    readonly formatSpec?: FormatSpec;
    readonly allowedSet?: ReadonlySet<string>;
}

export interface CompiledSchema {
    readonly declaration: ClaimsSchemaDeclaration;
    readonly fields: readonly CompiledField[];
    readonly fieldsByName: ReadonlyMap<string, CompiledField>;
    readonly integer: RegExp;
    readonly decimal: RegExp;
    readonly dateFormats: readonly { readonly regex: RegExp; readonly order: "ymd" | "mdy" }[];
    readonly minYear: number;
    readonly maxYear: number;
    readonly rulesById: ReadonlyMap<string, RuleSpec>;
}

/**
 * Checks the declaration's internal consistency (every referenced format, field and rule id exists) and
 * compiles its patterns. Throws naming the first inconsistency: a broken schema must fail at cold start,
 * not judge files wrongly.
 */
export function compileSchema(declaration: ClaimsSchemaDeclaration = CLAIMS_SCHEMA): CompiledSchema {
    const rulesById = new Map(declaration.rules.map((r) => [r.id, r]));
    const fieldNames = new Set(declaration.fields.map((f) => f.name));
    const requireRule = (id: string, where: string) => {
        if (!rulesById.has(id)) throw new Error(`claims schema: ${where} names rule ${id}, which is not declared in "rules"`);
    };
    const requireField = (name: string, where: string) => {
        if (!fieldNames.has(name)) throw new Error(`claims schema: ${where} names field ${name}, which is not declared in "fields"`);
    };
    if (fieldNames.size !== declaration.fields.length) throw new Error("claims schema: a field name is declared twice");
    const fields: CompiledField[] = declaration.fields.map((f) => {
        const formatSpec = f.format === undefined ? undefined : declaration.formats[f.format];
        if (f.format !== undefined && formatSpec === undefined) throw new Error(`claims schema: field ${f.name} uses unknown format ${f.format}`);
        if (f.allowed !== undefined) requireRule(f.unknown_rule ?? "", `field ${f.name}`);
        return {
            ...f,
            ...(formatSpec ? { formatSpec, formatRegex: new RegExp(formatSpec.pattern) } : {}),
            ...(f.allowed ? { allowedSet: new Set(f.allowed) } : {}),
        };
    });
    requireRule(declaration.types.integer.rule, "types.integer");
    requireRule(declaration.types.decimal.rule, "types.decimal");
    requireRule(declaration.types.date.rule, "types.date");
    for (const rule of declaration.business_rules) {
        requireRule(rule.id, `business rule ${rule.id}`);
        if (rule.kind === "not_after") {
            requireField(rule.field, `business rule ${rule.id}`);
            requireField(rule.than, `business rule ${rule.id}`);
        } else {
            rule.fields.forEach((f) => requireField(f, `business rule ${rule.id}`));
            if (rule.kind === "not_greater_than") requireField(rule.than, `business rule ${rule.id}`);
        }
    }
    return {
        declaration,
        fields,
        fieldsByName: new Map(fields.map((f) => [f.name, f])),
        integer: new RegExp(declaration.types.integer.pattern),
        decimal: new RegExp(declaration.types.decimal.pattern),
        dateFormats: declaration.types.date.formats.map((d) => ({ regex: new RegExp(d.pattern), order: d.order })),
        minYear: declaration.types.date.min_year,
        maxYear: declaration.types.date.max_year,
        rulesById,
    };
}

/** The family of a rule id (for the report's per-family counts). */
export function familyOf(schema: CompiledSchema, ruleId: string): RuleFamily {
    const rule = schema.rulesById.get(ruleId);
    if (!rule) throw new Error(`claims schema: unknown rule ${ruleId}`);
    return rule.family;
}
