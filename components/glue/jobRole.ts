/**
 * A Glue job's own IAM role: its name, and its least-privilege policy (code, input, output and scratch
 * prefixes, the KMS keys, its log groups, Glue metrics, and when configured the metadata record, bookmarks
 * and catalog).
 */
import {
    cloudWatchLogsWriteStatement,
    glueJobRunStatement,
    logGroupBaseArn,
    policyDocument,
    PolicyDocument,
    PolicyStatement,
    s3GetObjectStatement,
    s3ReadStatements,
    s3ReadWriteStatements,
    wildcardResourceViolations,
} from "../iam/iamPolicies";
import { parseArn } from "./glueEnvironment";
import { jobCodePrefixes, sha256Hex } from "./jobCode";
import { GlueBookmarkOption, GlueDataCatalogAccess } from "./jobSettings";

/** IAM role name of a job: `<job>-GlueJobRole`, shortened with a hash when over IAM's 64 characters. */
export function glueJobRoleName(jobName: string): string {
    const suffix = "-GlueJobRole";
    const full = `${jobName}${suffix}`;
    if (full.length <= 64) return full;
    const hash = sha256Hex(jobName).slice(0, 8);
    return `${jobName.slice(0, 64 - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

export interface GlueJobPolicyInputs {
    readonly jobName: string;
    /** ARN of the catalog database; gives partition, region and account for the other ARNs. */
    readonly databaseArn: string;
    readonly assetsBucketArn: string;
    /** Whether a library is shipped (its prefix becomes readable). */
    readonly withLibrary: boolean;
    readonly readAccess: readonly { bucketArn: string; prefixes: readonly string[] }[];
    readonly writeAccess: readonly { bucketArn: string; prefixes: readonly string[] }[];
    readonly kmsKeyArns: readonly string[];
    readonly logGroupArns: readonly string[];
    readonly metadataTableArn?: string;
    readonly bookmarks: GlueBookmarkOption;
    readonly dataCatalog: GlueDataCatalogAccess;
    readonly extraStatements?: readonly PolicyStatement[];
}

/** `arn:<partition>:glue:<region>:<account>:job/<name>` */
export function glueJobArn(databaseArn: string, jobName: string): string {
    const { partition, region, account } = parseArn(databaseArn);
    return `arn:${partition}:glue:${region}:${account}:job/${jobName}`;
}

/** The name in `arn:...:dynamodb:<region>:<account>:table/<name>`. */
export function dynamoDbTableName(tableArn: string): string {
    const { service, resource } = parseArn(tableArn);
    const match = /^table\/([A-Za-z0-9_.-]+)$/.exec(resource);
    if (service !== "dynamodb" || !match) throw new Error(`dynamoDbTableName: not a DynamoDB table ARN: ${tableArn}`);
    return match[1];
}

/**
 * Key use for SSE-KMS objects and CSE-KMS bookmarks: Glue's security-configuration setup asks for
 * Decrypt, Encrypt and GenerateDataKey. (iamPolicies' kmsUseStatement has no kms:Encrypt.)
 */
function kmsEncryptDecryptStatement(keyArns: readonly string[]): PolicyStatement {
    const bad = keyArns.filter((k) => !k.startsWith("arn:"));
    if (keyArns.length === 0 || bad.length > 0) throw new Error(`kmsEncryptDecryptStatement: expected key ARNs, got ${JSON.stringify(keyArns)}`);
    return { Sid: "UseKmsKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: [...new Set(keyArns)] };
}

/**
 * The job role's whole policy: code, input, output and scratch prefixes, the KMS key, its log groups,
 * Glue metrics, and (when configured) the metadata record, bookmarks and catalog. The only "*" resource is
 * cloudwatch:PutMetricData, which has no resource ARN and is held to the "Glue" namespace instead.
 */
export function glueJobRolePolicy(p: GlueJobPolicyInputs): PolicyDocument {
    const { partition, region, account } = parseArn(p.databaseArn);
    const prefixes = jobCodePrefixes(p.jobName);
    const statements: PolicyStatement[] = [
        s3GetObjectStatement(p.assetsBucketArn, p.withLibrary ? [prefixes.script, prefixes.library] : [prefixes.script], "ReadJobCode"),
        ...p.readAccess.flatMap((g, i) => s3ReadStatements(g.bucketArn, g.prefixes, `ReadInput${i}`)),
        ...p.writeAccess.flatMap((g, i) => s3ReadWriteStatements(g.bucketArn, g.prefixes, { delete: true }, `WriteOutput${i}`)),
        ...s3ReadWriteStatements(p.assetsBucketArn, [prefixes.temp, prefixes.sparkUi], { delete: true }, "JobScratch"),
        kmsEncryptDecryptStatement(p.kmsKeyArns),
    ];
    if (p.logGroupArns.length === 0) throw new Error("glueJobRolePolicy: the job needs at least one log group");
    const logWrites = p.logGroupArns.map((arn) => cloudWatchLogsWriteStatement(arn));
    statements.push({
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: logWrites[0].Action,
        Resource: [...new Set(logWrites.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource as string])))],
    });
    // Under an encrypting security configuration Glue associates the key with the group itself (without this
    // it turns continuous logging off) and creates the group if it is missing; held to these groups only.
    statements.push({
        Sid: "SetUpLogGroups",
        Effect: "Allow",
        Action: ["logs:AssociateKmsKey", "logs:CreateLogGroup"],
        Resource: [...new Set(p.logGroupArns.map(logGroupBaseArn))],
    });
    statements.push({
        Sid: "PutGlueMetrics",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    });
    if (p.metadataTableArn !== undefined) {
        dynamoDbTableName(p.metadataTableArn);
        statements.push({ Sid: "MetadataRecord", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: p.metadataTableArn });
    }
    if (p.bookmarks !== "disable") {
        statements.push(glueJobRunStatement(glueJobArn(p.databaseArn, p.jobName), ["glue:GetJobBookmark"], "JobBookmark"));
    }
    if (p.dataCatalog !== "off") {
        const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
        const database = parseArn(p.databaseArn).resource.replace(/^database\//, "");
        // Spark's metastore client looks at `default` when a session starts, and at our database when used.
        statements.push({
            Sid: "DataCatalogRead",
            Effect: "Allow",
            Action: [
                "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                "glue:GetPartitions", "glue:BatchGetPartition", "glue:GetUserDefinedFunction", "glue:GetUserDefinedFunctions",
            ],
            Resource: [
                glueArn("catalog"),
                glueArn("database/default"),
                glueArn(`database/${database}`),
                glueArn(`table/${database}/*`),
                glueArn(`userDefinedFunction/${database}/*`),
            ],
        });
        if (p.dataCatalog === "readWrite") {
            statements.push({
                Sid: "DataCatalogWrite",
                Effect: "Allow",
                Action: [
                    "glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition", "glue:BatchCreatePartition",
                    "glue:UpdatePartition", "glue:BatchUpdatePartition",
                ],
                Resource: [glueArn("catalog"), glueArn(`database/${database}`), glueArn(`table/${database}/*`)],
            });
        }
    }
    statements.push(...(p.extraStatements ?? []));
    const doc = policyDocument(statements);
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) {
        throw new Error(`glueJobRolePolicy: statements grant S3/DynamoDB/Glue/KMS/SQS actions on "*": ${JSON.stringify(violations)}`);
    }
    return doc;
}
