/**
 * A small evaluator of IAM policy documents, enough to ask the questions the delivery tests ask ("may this
 * token assume the role?", "may the deploy role do X to Y?") instead of comparing JSON shapes only.
 *
 * It implements the parts of IAM's evaluation our policies use: explicit deny over allow over implicit deny;
 * Action/Resource wildcards (`*`, `?`; actions case-insensitive); Principal (AWS/Federated/Service or "*");
 * conditions StringEquals, StringNotEquals, StringLike, ArnLike, ArnEquals, Bool and their ForAnyValue: /
 * ForAllValues: forms, with IAM's rule that a missing key fails a positive operator and satisfies a negated
 * one. It is a model for tests, not a substitute for AWS: anything it does not understand throws.
 */
import type { PolicyStatement } from "../../components/iamPolicies";

export type ContextValue = string | readonly string[];

export interface IamRequest {
    readonly action: string;
    /** Omitted for trust policies (they have no Resource). */
    readonly resource?: string;
    /** Who asks, for resource/trust policies. */
    readonly principal?: { readonly AWS?: string; readonly Federated?: string; readonly Service?: string };
    readonly context?: Readonly<Record<string, ContextValue>>;
}

export type Decision = "allow" | "deny" | "implicit-deny";

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
    const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`, caseInsensitive ? "i" : "").test(value);
}

function principalMatches(statement: PolicyStatement, principal: IamRequest["principal"]): boolean {
    const p = statement.Principal;
    if (p === undefined) return true; // identity policy
    if (p === "*") return true;
    if (!principal) return false;
    return (["AWS", "Federated", "Service"] as const).some((kind) => principal[kind] !== undefined && list(p[kind]).includes(principal[kind]!));
}

function operatorHolds(operator: string, expected: string[], actual: string[] | undefined): boolean {
    const setOp = operator.startsWith("ForAnyValue:") ? "any" : operator.startsWith("ForAllValues:") ? "all" : "single";
    const base = operator.replace(/^(ForAnyValue|ForAllValues):/, "");
    const negated = base.includes("Not");
    const compare = (a: string, e: string): boolean => {
        switch (base) {
            case "StringEquals":
            case "StringNotEquals":
            case "ArnEquals":
            case "ArnNotEquals":
                return a === e;
            case "StringLike":
            case "StringNotLike":
            case "ArnLike":
            case "ArnNotLike":
                return wildcardMatch(e, a);
            case "Bool":
                return a.toLowerCase() === e.toLowerCase();
            default:
                throw new Error(`iamEval: condition operator ${operator} is not modelled`);
        }
    };
    if (actual === undefined || actual.length === 0) {
        if (setOp === "all") return true;
        return negated;
    }
    const matchesAny = (a: string) => expected.some((e) => compare(a, e));
    if (setOp === "all") return actual.every((a) => (negated ? !matchesAny(a) : matchesAny(a)));
    if (setOp === "any") return actual.some((a) => (negated ? !matchesAny(a) : matchesAny(a)));
    if (actual.length !== 1) throw new Error(`iamEval: ${operator} on a multi-valued key needs ForAnyValue/ForAllValues`);
    return negated ? !matchesAny(actual[0]) : matchesAny(actual[0]);
}

function conditionsHold(statement: PolicyStatement, context: IamRequest["context"] = {}): boolean {
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
        for (const [key, expected] of Object.entries(keys)) {
            const actual = context[key];
            if (!operatorHolds(operator, list(expected as any).map(String), actual === undefined ? undefined : list(actual))) return false;
        }
    }
    return true;
}

export function statementApplies(statement: PolicyStatement, request: IamRequest): boolean {
    if (!list(statement.Action).some((a) => wildcardMatch(a, request.action, true))) return false;
    if (request.resource !== undefined && statement.Resource !== undefined && !list(statement.Resource).some((r) => wildcardMatch(r, request.resource!))) return false;
    if (!principalMatches(statement, request.principal)) return false;
    return conditionsHold(statement, request.context);
}

export function evaluate(documents: ReadonlyArray<{ Statement: PolicyStatement[] } | string>, request: IamRequest): Decision {
    const statements = documents.flatMap((d) => list((typeof d === "string" ? JSON.parse(d) : d).Statement) as PolicyStatement[]);
    const applying = statements.filter((s) => statementApplies(s, request));
    if (applying.some((s) => s.Effect === "Deny")) return "deny";
    if (applying.some((s) => s.Effect === "Allow")) return "allow";
    return "implicit-deny";
}

export const allows = (documents: Parameters<typeof evaluate>[0], request: IamRequest): boolean => evaluate(documents, request) === "allow";

/** The request a Pulumi OIDC token makes against a trust policy. */
export function webIdentity(providerArn: string, aud: string, sub: string): IamRequest {
    return {
        action: "sts:AssumeRoleWithWebIdentity",
        principal: { Federated: providerArn },
        context: { "api.pulumi.com/oidc:aud": aud, "api.pulumi.com/oidc:sub": sub },
    };
}
