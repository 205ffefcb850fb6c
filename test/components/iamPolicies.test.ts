import * as assert from "node:assert/strict";
import {
    NO_WILDCARD_SERVICES,
    PolicyStatement,
    cloudWatchLogsWriteStatement,
    denyInsecureTransport,
    denyOutdatedTls,
    dynamoDbItemStatement,
    glueJobRunStatement,
    kmsUseStatement,
    logGroupBaseArn,
    normalizePrefix,
    policyDocument,
    s3GetObjectStatement,
    s3ListStatement,
    s3ObjectArns,
    s3ReadStatements,
    s3ReadWriteStatements,
    s3WriteStatement,
    serviceAssumeRolePolicy,
    sqsConsumeStatement,
    sqsSendMessageStatement,
    tlsOnlyBucketStatements,
    wildcardResourceViolations,
} from "../../components/iam/iamPolicies";

import { runSimulation } from "@cloud-copilot/iam-simulate";
// Static imports are safe here: these are pure functions, and the mocks are --require'd before this file.
const BUCKET = "arn:aws:s3:::glue-input-dev-111111111111";
const TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/etl-pipeline-metadata-dev";
const KEY = "arn:aws:kms:eu-west-1:111111111111:key/abcd";
const LOG_GROUP = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/GlueTriggerLambda-dev";

describe("iamPolicies", () => {
    describe("normalizePrefix", () => {
        const cases: [string, string][] = [
            ["", ""],
            ["/", ""],
            ["raw", "raw/"],
            ["raw/", "raw/"],
            ["/raw/2024", "raw/2024/"],
            ["a/b/c/", "a/b/c/"],
        ];
        for (const [given, expected] of cases) {
            it(`${JSON.stringify(given)} → ${JSON.stringify(expected)}`, () => assert.equal(normalizePrefix(given), expected));
        }
        it("rejects wildcards, which would widen the grant", () => assert.throws(() => normalizePrefix("raw/*"), /wildcards/));
    });

    describe("s3ObjectArns", () => {
        const cases: [string, string[], string[]][] = [
            ["no prefixes → whole bucket", [], [`${BUCKET}/*`]],
            ["empty prefix → whole bucket", [""], [`${BUCKET}/*`]],
            ["empty prefix wins over others", ["raw/", ""], [`${BUCKET}/*`]],
            ["one prefix, slash added", ["raw"], [`${BUCKET}/raw/*`]],
            ["duplicates collapse", ["raw", "raw/", "/raw"], [`${BUCKET}/raw/*`]],
            ["several prefixes keep order", ["processed/", "quarantine/"], [`${BUCKET}/processed/*`, `${BUCKET}/quarantine/*`]],
        ];
        for (const [title, prefixes, expected] of cases) {
            it(title, () => assert.deepEqual(s3ObjectArns(BUCKET, prefixes), expected));
        }
        for (const bad of ["*", "", "glue-input-dev", "arn"]) {
            it(`rejects bucket ARN ${JSON.stringify(bad)}`, () => assert.throws(() => s3ObjectArns(bad), /expected an ARN/));
        }
    });

    describe("S3 statements", () => {
        it("list is unconditioned for the whole bucket", () => {
            assert.deepEqual(s3ListStatement(BUCKET), { Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET });
        });
        it("list is limited to the prefixes (with and without the trailing *)", () => {
            const s = s3ListStatement(BUCKET, ["raw", "processed/"], "In");
            assert.equal(s.Sid, "In");
            assert.equal(s.Resource, BUCKET);
            assert.deepEqual(s.Condition, { StringLikeIfExists: { "s3:prefix": ["raw/", "raw/*", "processed/", "processed/*"] } });
        });
        describe("a prefix-scoped list, judged by the IAM evaluator (@cloud-copilot/iam-simulate)", () => {
            // HeadObject on a missing key: 404 with s3:ListBucket, 403 without (S3 API reference, HeadObject).
            // AWS does not say what s3:prefix the implicit ListBucket check of a HEAD sees; both cases must allow.
            const identity = [{ Version: "2012-10-17", Statement: [s3ListStatement(BUCKET, ["processed/"])] }];
            const list = async (context: Record<string, string>): Promise<string> => {
                const result = await runSimulation(
                    {
                        request: { principal: "arn:aws:iam::111111111111:role/job", action: "s3:ListBucket", resource: { resource: BUCKET, accountId: "111111111111" }, contextVariables: context },
                        identityPolicies: [{ name: "job", policy: identity[0] }],
                        serviceControlPolicies: [],
                        resourceControlPolicies: [],
                    },
                    {},
                );
                if (result.resultType !== "single") throw new Error(`unexpected simulation result ${JSON.stringify(result)}`);
                // A context key the evaluator ignored would make the case prove nothing.
                assert.deepEqual(result.result.ignoredContextKeys ?? [], []);
                return { Allowed: "allow", ImplicitlyDenied: "implicit-deny", ExplicitlyDenied: "deny" }[result.overallResult as string] ?? String(result.overallResult);
            };
            const cases: Array<[string, Record<string, string>, string]> = [
                ["a HEAD's check without s3:prefix (a missing output path then gets 404, not 403)", {}, "allow"],
                ["a HEAD's check that sees the key as s3:prefix", { "s3:prefix": "processed/2026/12/04/part-0000.parquet" }, "allow"],
                ["a listing of the prefix", { "s3:prefix": "processed/" }, "allow"],
                ["a listing under the prefix", { "s3:prefix": "processed/2026/" }, "allow"],
                ["a listing of another prefix", { "s3:prefix": "quarantine/" }, "implicit-deny"],
                ["a listing that names the empty prefix (the bucket root)", { "s3:prefix": "" }, "implicit-deny"],
                ["a listing of a prefix that only starts like ours", { "s3:prefix": "processed-data/" }, "implicit-deny"],
            ];
            for (const [title, context, expected] of cases) it(`${expected === "allow" ? "allows" : "refuses"} ${title}`, async () => assert.equal(await list(context), expected));
        });

        it("get covers current and older versions of objects under the prefix", () => {
            assert.deepEqual(s3GetObjectStatement(BUCKET, ["raw"]), {
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:GetObjectVersion"],
                Resource: [`${BUCKET}/raw/*`],
            });
        });
        it("read = list + get, with derived Sids", () => {
            const [list, get] = s3ReadStatements(BUCKET, ["raw"], "Input");
            assert.equal(list.Sid, "InputList");
            assert.equal(get.Sid, "InputGet");
            assert.deepEqual(get.Resource, [`${BUCKET}/raw/*`]);
        });
        const writeCases: [string, boolean | undefined, string[]][] = [
            ["write without delete", undefined, ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]],
            ["write with delete", true, ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:DeleteObject"]],
        ];
        for (const [title, del, actions] of writeCases) {
            it(title, () => {
                const s = s3WriteStatement(BUCKET, ["processed/"], { delete: del });
                assert.deepEqual(s.Action, actions);
                assert.deepEqual(s.Resource, [`${BUCKET}/processed/*`]);
            });
        }
        it("read/write returns three statements on the same prefixes", () => {
            const statements = s3ReadWriteStatements(BUCKET, ["out"], { delete: true }, "Out");
            assert.deepEqual(statements.map((s) => s.Sid), ["OutList", "OutGet", "OutWrite"]);
            assert.deepEqual(statements[2].Resource, [`${BUCKET}/out/*`]);
        });
    });

    describe("kmsUseStatement", () => {
        const cases: [Parameters<typeof kmsUseStatement>[1], string[]][] = [
            ["decrypt", ["kms:Decrypt"]],
            ["encrypt", ["kms:GenerateDataKey"]],
            ["encryptDecrypt", ["kms:Decrypt", "kms:GenerateDataKey"]],
        ];
        for (const [use, actions] of cases) {
            it(`${use} → ${actions.join(", ")} on the key only`, () => {
                const s = kmsUseStatement(KEY, use);
                assert.deepEqual(s.Action, actions);
                assert.deepEqual(s.Resource, [KEY]);
                assert.equal(s.Condition, undefined);
            });
        }
        it("adds kms:ViaService when asked", () => {
            const s = kmsUseStatement([KEY, KEY], "decrypt", { viaServices: ["s3.eu-west-1.amazonaws.com"], sid: "K" });
            assert.deepEqual(s.Resource, [KEY]);
            assert.deepEqual(s.Condition, { StringEquals: { "kms:ViaService": ["s3.eu-west-1.amazonaws.com"] } });
            assert.equal(s.Sid, "K");
        });
        it("rejects * and empty key lists", () => {
            assert.throws(() => kmsUseStatement("*", "decrypt"), /expected an ARN/);
            assert.throws(() => kmsUseStatement([], "decrypt"), /at least one key/);
        });
    });

    describe("dynamoDbItemStatement", () => {
        const cases: [string, Parameters<typeof dynamoDbItemStatement>[1], string[], string[]][] = [
            [
                "defaults: read + write on the table, no delete, no index",
                {},
                ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [TABLE],
            ],
            ["read only on one index", { write: false, indexes: ["by-status"] }, ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"], [TABLE, `${TABLE}/index/by-status`]],
            ["write + delete on all indexes", { read: false, delete: true, indexes: "all" }, ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"], [TABLE, `${TABLE}/index/*`]],
        ];
        for (const [title, access, actions, resources] of cases) {
            it(title, () => {
                const s = dynamoDbItemStatement(TABLE, access);
                assert.deepEqual(s.Action, actions);
                assert.deepEqual(s.Resource, resources);
            });
        }
        it("never grants table management or scans", () => {
            const actions = dynamoDbItemStatement(TABLE, { delete: true, indexes: "all" }).Action as string[];
            for (const forbidden of ["dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:*", "dynamodb:UpdateTable"]) assert.ok(!actions.includes(forbidden), forbidden);
        });
        it("rejects a statement that grants nothing", () => {
            assert.throws(() => dynamoDbItemStatement(TABLE, { read: false, write: false }), /nothing to grant/);
        });
    });

    describe("CloudWatch Logs", () => {
        const cases: [string, string, string][] = [
            ["the provider's ARN", LOG_GROUP, LOG_GROUP],
            ["DescribeLogGroups' ARN with :*", `${LOG_GROUP}:*`, LOG_GROUP],
        ];
        for (const [title, given, base] of cases) {
            it(`${title} → the group and its streams`, () => {
                assert.equal(logGroupBaseArn(given), base);
                const s = cloudWatchLogsWriteStatement(given);
                assert.deepEqual(s.Action, ["logs:CreateLogStream", "logs:PutLogEvents"]);
                assert.deepEqual(s.Resource, [base, `${base}:log-stream:*`]);
            });
        }
    });

    describe("SQS and Glue", () => {
        it("SendMessage on the one queue", () => {
            const q = "arn:aws:sqs:eu-west-1:111111111111:dlq";
            assert.deepEqual(sqsSendMessageStatement(q, "Dlq"), { Sid: "Dlq", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: q });
        });
        it("consuming one queue: what the event source mapping needs, and re-sending a waiting file", () => {
            const q = "arn:aws:sqs:eu-west-1:111111111111:GlueTriggerLambda-dev-queue";
            assert.deepEqual(sqsConsumeStatement(q, "Own"), {
                Sid: "Own",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:SendMessage"],
                Resource: q,
            });
            assert.throws(() => sqsConsumeStatement("*"), /expected an ARN/);
        });
        it("job runs on the given jobs", () => {
            const job = "arn:aws:glue:eu-west-1:111111111111:job/FileProcessorV2-dev";
            assert.deepEqual(glueJobRunStatement(job), { Effect: "Allow", Action: ["glue:StartJobRun", "glue:GetJobRun"], Resource: [job] });
            assert.deepEqual(glueJobRunStatement([job], ["glue:StartJobRun"]).Action, ["glue:StartJobRun"]);
        });
        it("rejects non-Glue actions and missing jobs", () => {
            assert.throws(() => glueJobRunStatement("arn:aws:glue:eu-west-1:1:job/x", ["s3:GetObject"]), /not Glue actions/);
            assert.throws(() => glueJobRunStatement([]), /at least one job/);
        });
    });

    describe("TLS bucket statements", () => {
        it("deny any request without TLS, on the bucket and its objects", () => {
            assert.deepEqual(denyInsecureTransport(BUCKET), {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [BUCKET, `${BUCKET}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            });
        });
        const tlsCases: [number | undefined, number][] = [
            [undefined, 1.2],
            [1.3, 1.3],
        ];
        for (const [given, expected] of tlsCases) {
            it(`deny TLS older than ${expected}`, () => {
                const s = denyOutdatedTls(BUCKET, given);
                assert.equal(s.Effect, "Deny");
                assert.deepEqual(s.Resource, [BUCKET, `${BUCKET}/*`]);
                assert.deepEqual(s.Condition, { NumericLessThan: { "s3:TlsVersion": expected } });
            });
        }
        it("tlsOnlyBucketStatements is both", () => {
            assert.deepEqual(tlsOnlyBucketStatements(BUCKET).map((s) => s.Sid), ["DenyInsecureTransport", "DenyOutdatedTls"]);
        });
    });

    describe("serviceAssumeRolePolicy", () => {
        it("one service, no conditions", () => {
            assert.deepEqual(serviceAssumeRolePolicy("lambda.amazonaws.com"), {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
            });
        });
        it("confused-deputy conditions", () => {
            const doc = serviceAssumeRolePolicy(["glue.amazonaws.com"], { sourceAccount: "111111111111", sourceArn: "arn:aws:glue:eu-west-1:111111111111:*" });
            assert.deepEqual(doc.Statement[0].Condition, {
                StringEquals: { "aws:SourceAccount": "111111111111" },
                ArnLike: { "aws:SourceArn": "arn:aws:glue:eu-west-1:111111111111:*" },
            });
        });
        it("rejects what is not a service principal", () => {
            assert.throws(() => serviceAssumeRolePolicy("arn:aws:iam::111111111111:root"), /not service principals/);
            assert.throws(() => serviceAssumeRolePolicy([]), /not service principals/);
        });
    });

    describe("policyDocument and wildcardResourceViolations", () => {
        it("wraps statements with the policy version", () => {
            const doc = policyDocument([denyInsecureTransport(BUCKET)]);
            assert.equal(doc.Version, "2012-10-17");
            assert.equal(doc.Statement.length, 1);
        });
        it("rejects an empty document", () => assert.throws(() => policyDocument([]), /at least one statement/));

        const allow = (Action: string | string[], Resource: string | string[]): PolicyStatement => ({ Effect: "Allow", Action, Resource });
        const cases: [string, PolicyStatement, boolean][] = [
            ["s3 on *", allow("s3:GetObject", "*"), true],
            ["dynamodb on * in a list", allow(["dynamodb:PutItem"], ["*"]), true],
            ["glue on *", allow("glue:StartJobRun", "*"), true],
            ["kms on *", allow(["kms:Decrypt"], "*"), true],
            ["sqs on *", allow("sqs:SendMessage", "*"), true],
            ["* on *", allow("*", "*"), true],
            ["xray on * is allowed", allow(["xray:PutTraceSegments"], "*"), false],
            ["s3 on an ARN", allow("s3:GetObject", `${BUCKET}/*`), false],
            ["a Deny on * is fine", { Effect: "Deny", Action: "s3:*", Resource: "*" }, false],
        ];
        for (const [title, statement, violates] of cases) {
            it(`${title} → ${violates ? "violation" : "clean"}`, () => {
                assert.equal(wildcardResourceViolations(policyDocument([statement])).length, violates ? 1 : 0);
                assert.equal(wildcardResourceViolations(JSON.stringify(policyDocument([statement]))).length, violates ? 1 : 0);
            });
        }
        it("covers exactly the services of the house rule", () => assert.deepEqual([...NO_WILDCARD_SERVICES].sort(), ["dynamodb", "glue", "kms", "s3", "sqs"]));
    });
});
