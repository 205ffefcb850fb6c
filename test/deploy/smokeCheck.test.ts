/**
 * Smoke as the last step of `pulumi up` (components/delivery/smokeCheck.ts), under the recording mocks: the check
 * exists only with `smokeOnUp`, runs after the flows' resources, again for each release, with the outputs
 * and role smoke reads from its environment; the smoke role is scoped to what smoke does (judged by an IAM
 * evaluator) and carries the boundary; the command line is one scripts/smoke.ts parses; its result line is
 * parsed strictly.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
    assumeSmokeRoleStatement,
    parseSmokeStdout,
    smokeCommandLine,
    smokeKeyPatterns,
    smokeMarkerProblem,
    smokeRoleTrustPolicy,
} from "../../components/delivery/smokeCheck";
import { deriveJobPaths } from "../../functions/glue-trigger/trigger";
import { newRunId, parseSmokeArgs, smokeKey, smokeSamples } from "../../scripts/smoke";
import { PARQUET_SUFFIX } from "../../stacks/flows/parquetToJson";
import { CSV_SUFFIX } from "../../stacks/flows/csv";
import { named, ofType, RecordedResource, statementsOf } from "../support/graph";
import { valueOf } from "../support/outputs";
import { buildWorkload, stackConfig } from "../support/workload";
import { FLOW_PREFIXES, judge, PROJECT, smokeScope } from "./smokeAccess";
import { decide, delegatingPolicy } from "../access/simulate";
import { deployRolePolicy, WorkloadScope } from "../../components/delivery/deployRoles";

const ACCOUNT = "111111111111";
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-dev`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/glue-data-pipeline-bootstrap/glue-data-pipeline-deploy-dev`;
const COMMAND = "command:local:Command";

describe("smoke on pulumi up", () => {
    describe("without smokeOnUp (the default, the sandbox)", () => {
        it("creates no check and no smoke role, and exports no smoke output", async () => {
            const dev = await buildWorkload(stackConfig("dev"));
            assert.equal(dev.smoke, undefined);
            assert.equal(ofType(COMMAND).length, 0);
            assert.ok(!ofType("aws:iam/role:Role").some((r) => r.inputs.name === "SmokeRole-dev"));
            assert.ok(!("smoke" in dev.outputs));
        });
    });

    describe("with smokeOnUp, deploying with the caller's credentials", () => {
        let run: RecordedResource;
        let role: RecordedResource;
        let release: string;
        before(async () => {
            const dev = await buildWorkload(stackConfig("dev", { smokeOnUp: true, permissionsBoundaryArn: BOUNDARY }));
            release = await valueOf(dev.releaseId);
            run = named("smoke-run", COMMAND);
            role = named("smoke-role", "aws:iam/role:Role");
            // The command has not run under mocks (as in a preview): no result yet, rather than a made-up one.
            assert.equal(await valueOf(dev.smoke!.result), undefined);
        });

        it("runs after every resource the CSV and Parquet flows need, and after its role and policy", () => {
            const deps = new Set(run.dependencies);
            const needed = [
                named("glue-trigger-function", "aws:lambda/function:Function"),
                named("file-processor-job", "aws:glue/job:Job"),
                named("parquet-to-json-job", "aws:glue/job:Job"),
                named("parquet-trigger-function", "aws:lambda/function:Function"),
                named("input-notifications", "aws:s3/bucketNotification:BucketNotification"),
                named("processing-metadata-table", "aws:dynamodb/table:Table"),
                // S3's permission to invoke each trigger (the notification needs it in place).
                ...ofType("aws:lambda/permission:Permission").filter((p) => /^(glue|parquet)-trigger-/.test(p.name)),
                role,
                named("smoke-policy", "aws:iam/rolePolicy:RolePolicy"),
            ];
            assert.deepEqual(needed.filter((r) => !deps.has(r.urn)).map((r) => r.name), []);
        });

        it("runs again for every release (triggers: the release id), with the outputs and role smoke reads", () => {
            assert.deepEqual(run.inputs.triggers, [release]);
            assert.equal(run.inputs.create, smokeCommandLine(false));
            const env = run.inputs.environment;
            assert.deepEqual(JSON.parse(env.SMOKE_OUTPUTS), {
                inputBucket: `glue-input-dev-${ACCOUNT}`,
                outputBucket: `glue-output-dev-${ACCOUNT}`,
                metadataTable: "etl-pipeline-metadata-dev",
                releaseId: release,
                region: "eu-west-1",
            });
            assert.equal(env.SMOKE_ROLE_ARN, `arn:aws:iam::${ACCOUNT}:role/SmokeRole-dev`);
            assert.equal(env.SMOKE_STACK, "dev");
            assert.equal(env.SMOKE_DEPLOY_ROLE_ARN, undefined);
        });

        it("runs as SmokeRole-dev, which carries the boundary and trusts the account's own principals", () => {
            assert.equal(role.inputs.name, "SmokeRole-dev");
            assert.equal(role.inputs.permissionsBoundary, BOUNDARY);
            const [trust] = statementsOf(role.inputs.assumeRolePolicy);
            assert.deepEqual(trust.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
            assert.equal(trust.Action, "sts:AssumeRole");
        });
    });

    describe("with smokeOnUp and a deployRoleArn", () => {
        it("trusts only the deploy role, and the command assumes it first, as the AWS provider does", async () => {
            await buildWorkload(stackConfig("dev", { smokeOnUp: true, deployRoleArn: DEPLOY_ROLE }));
            const [trust] = statementsOf(named("smoke-role", "aws:iam/role:Role").inputs.assumeRolePolicy);
            assert.deepEqual(trust.Principal, { AWS: DEPLOY_ROLE });
            const run = named("smoke-run", COMMAND);
            assert.equal(run.inputs.environment.SMOKE_DEPLOY_ROLE_ARN, DEPLOY_ROLE);
            assert.equal(run.inputs.create, smokeCommandLine(true));
        });
    });

    it("the command line parses as smoke's arguments, the deploy role before the smoke role", () => {
        // The shell's own expansion of the line, with `npm run --silent smoke --` replaced by a printer.
        const line = smokeCommandLine(true).replace(/^npm run --silent smoke --/, `printf '%s\\n'`);
        const argv = execFileSync("/bin/sh", ["-c", line], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, SMOKE_STACK: "acme/glue-data-pipeline/dev", SMOKE_DEPLOY_ROLE_ARN: DEPLOY_ROLE, SMOKE_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/SmokeRole-dev` },
        })
            .trimEnd()
            .split("\n");
        assert.deepEqual(parseSmokeArgs(argv), {
            stack: "acme/glue-data-pipeline/dev",
            outputsFile: undefined,
            outputsEnv: "SMOKE_OUTPUTS",
            roleArns: [DEPLOY_ROLE, `arn:aws:iam::${ACCOUNT}:role/SmokeRole-dev`],
            timeoutSeconds: 900,
            marker: true,
            json: true,
        });
    });

    describe("the smoke role's permissions, judged by an IAM evaluator", () => {
        const scope = smokeScope(ACCOUNT, "eu-west-1", "dev");
        const IN = scope.inputBucket;
        const OUT = scope.outputBucket;
        const now = new Date("2026-12-04T04:05:06Z");
        const runId = newRunId(now, () => 0.5);
        // Every key smoke uploads, and where the trigger (its own function) sends each file's output and quarantine.
        const uploads = smokeSamples().map((s) => smokeKey(s, runId, now));
        const paths = uploads.map((key) =>
            key.endsWith(CSV_SUFFIX)
                ? deriveJobPaths(IN, key, CSV_SUFFIX, OUT)
                : deriveJobPaths(IN, key, PARQUET_SUFFIX, OUT, { keyPrefix: FLOW_PREFIXES.parquetInput, outputPrefix: FLOW_PREFIXES.parquetOutput }),
        );
        const prefixOf = (uri: string) => uri.replace(`s3://${OUT}/`, "");
        const via = (service: string) => ({ "kms:ViaService": `${service}.eu-west-1.amazonaws.com` });
        const KEY = scope.kmsKeyArn;
        const TABLE = scope.tableArn;

        const allowed: Array<[string, string, Record<string, string>?]> = [
            ...uploads.map((k): [string, string] => ["s3:PutObject", `arn:aws:s3:::${IN}/${k}`]),
            ...paths.flatMap((p) => [p.outputPath, p.quarantinePath]).map((u): [string, string, Record<string, string>] => ["s3:ListBucket", `arn:aws:s3:::${OUT}`, { "s3:prefix": prefixOf(u) }]),
            ...paths.flatMap((p) => [p.outputPath, p.quarantinePath]).map((u): [string, string] => ["s3:GetObject", `arn:aws:s3:::${OUT}/${prefixOf(u)}part-00000.snappy.parquet`]),
            ["s3:PutObject", `arn:aws:s3:::${OUT}/smoke/passed/0123456789abcdef.json`],
            ["dynamodb:GetItem", TABLE],
            ["kms:GenerateDataKey", KEY, via("s3")],
            ["kms:Decrypt", KEY, via("s3")],
            ["kms:Decrypt", KEY, via("dynamodb")],
        ];
        const refused: Array<[string, string, string, Record<string, string>?]> = [
            ["a Parquet file that is not smoke's", "s3:PutObject", `arn:aws:s3:::${IN}/raw-data/2026/12/04/trips.parquet`],
            ["a smoke-named Parquet file off the date layout", "s3:PutObject", `arn:aws:s3:::${IN}/raw-data/2026/12/smoke-x.parquet`],
            ["a CSV outside smoke/", "s3:PutObject", `arn:aws:s3:::${IN}/data/customers.csv`],
            ["reading the input bucket", "s3:GetObject", `arn:aws:s3:::${IN}/${uploads[0]}`],
            ["deleting an upload", "s3:DeleteObject", `arn:aws:s3:::${IN}/${uploads[0]}`],
            ["another file's output", "s3:GetObject", `arn:aws:s3:::${OUT}/processed/customers/part-0.parquet`],
            ["another Parquet file's output", "s3:GetObject", `arn:aws:s3:::${OUT}/processed-data/2026/12/04/trips/part-0.json`],
            ["writing a flow's output", "s3:PutObject", `arn:aws:s3:::${OUT}/${prefixOf(paths[0].outputPath)}x.parquet`],
            ["the medallion layers", "s3:GetObject", `arn:aws:s3:::${OUT}/gold/orders/part-0.parquet`],
            ["listing the output bucket's root", "s3:ListBucket", `arn:aws:s3:::${OUT}`, { "s3:prefix": "" }],
            ["listing all processed output", "s3:ListBucket", `arn:aws:s3:::${OUT}`, { "s3:prefix": "processed/" }],
            ["writing a record", "dynamodb:PutItem", TABLE],
            ["querying the table", "dynamodb:Query", TABLE],
            ["the key used directly", "kms:Decrypt", KEY],
            ["the key through another service", "kms:Decrypt", KEY, via("sqs")],
        ];

        for (const [action, resource, context] of allowed) {
            it(`allows ${action} ${resource.replace(/^arn:aws:[a-z0-9]*:[^:]*:[^:]*:/, "")}${context ? ` ${JSON.stringify(context)}` : ""}`, async () =>
                assert.equal(await judge(scope, action, resource, context ?? {}), "allow"));
        }
        for (const [title, action, resource, context] of refused) {
            it(`refuses ${title} (${action})`, async () => assert.notEqual(await judge(scope, action, resource, context ?? {}), "allow"));
        }

        it("names no wildcard resource beyond its key patterns, and the patterns pin the Parquet date layout", () => {
            const keys = smokeKeyPatterns(FLOW_PREFIXES);
            assert.deepEqual(keys.uploads, ["smoke/*", "raw-data/????/??/??/smoke-*"]);
            assert.deepEqual(keys.results, ["processed/smoke/*", "quarantine/smoke/*", "processed-data/????/??/??/smoke-*", "quarantine/raw-data/????/??/??/smoke-*"]);
        });
    });

    describe("trust and the deploy role's part", () => {
        it("trusts the deploy role when there is one, else the account root (its principals' own IAM decides)", () => {
            assert.deepEqual(smokeRoleTrustPolicy("aws", ACCOUNT, DEPLOY_ROLE).Statement[0].Principal, { AWS: DEPLOY_ROLE });
            assert.deepEqual(smokeRoleTrustPolicy("aws", ACCOUNT).Statement[0].Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
        });
        describe("the deploy role (its bootstrap policy, judged by the IAM evaluator)", () => {
            const scope = {
                partition: "aws",
                accountId: ACCOUNT,
                region: "eu-west-1",
                project: PROJECT,
                stage: "dev",
                boundaryArn: BOUNDARY,
                allowDataDestroy: true,
                smokeCheck: true,
            };
            const ask = (action: string, resource: string, context: Record<string, string> = {}, resourcePolicy?: { Statement: unknown }, asked: WorkloadScope = scope) =>
                decide({ principal: DEPLOY_ROLE, action, resource, context, identity: [deployRolePolicy(asked)], ...(resourcePolicy ? { resourcePolicy } : {}) }).then((a) => a.decision);
            const SMOKE_ROLE = `arn:aws:iam::${ACCOUNT}:role/SmokeRole-dev`;
            it("may create the smoke role inside the boundary, tagged for the project as the provider tags it", async () => {
                assert.equal(await ask("iam:CreateRole", SMOKE_ROLE, { "iam:PermissionsBoundary": BOUNDARY }, delegatingPolicy(ACCOUNT)), "allow");
                assert.equal(await ask("iam:TagRole", SMOKE_ROLE, { "aws:RequestTag/Project": PROJECT }, delegatingPolicy(ACCOUNT)), "allow");
                assert.notEqual(await ask("iam:CreateRole", SMOKE_ROLE, {}, delegatingPolicy(ACCOUNT)), "allow");
            });
            it("may assume it (its trust: the account), and no other role", async () => {
                assert.equal(await ask("sts:AssumeRole", SMOKE_ROLE, {}, smokeRoleTrustPolicy("aws", ACCOUNT)), "allow");
                assert.notEqual(await ask("sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/SmokeRole-prod`, {}, smokeRoleTrustPolicy("aws", ACCOUNT)), "allow");
                assert.notEqual(await ask("sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`, {}, delegatingPolicy(ACCOUNT)), "allow");
            });
            it("without smokeOnUp (prod) may neither tag a role of that name for the project nor assume it", async () => {
                const { smokeCheck: _on, ...withoutSmoke } = scope;
                assert.notEqual(await ask("iam:TagRole", SMOKE_ROLE, { "aws:RequestTag/Project": PROJECT }, delegatingPolicy(ACCOUNT), withoutSmoke), "allow");
                assert.notEqual(await ask("sts:AssumeRole", SMOKE_ROLE, {}, smokeRoleTrustPolicy("aws", ACCOUNT), withoutSmoke), "allow");
            });
            it("may not assume a role it created whose trust names it (same account: the trust alone would let it in)", async () => {
                const trustsDeployRole = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: DEPLOY_ROLE }, Action: "sts:AssumeRole" }] };
                const made = `arn:aws:iam::${ACCOUNT}:role/anything-role-abcdefg`;
                const { smokeCheck: _on, ...withoutSmoke } = scope;
                for (const asked of [scope, withoutSmoke]) {
                    assert.equal(await ask("iam:CreateRole", made, { "iam:PermissionsBoundary": BOUNDARY }, delegatingPolicy(ACCOUNT), asked), "allow");
                    assert.equal(await ask("sts:AssumeRole", made, {}, trustsDeployRole, asked), "deny");
                }
                assert.equal(await ask("sts:AssumeRole", SMOKE_ROLE, {}, trustsDeployRole), "allow");
            });
        });

        it("the deploy role may assume exactly the stage's smoke role", () => {
            assert.deepEqual(assumeSmokeRoleStatement("aws", ACCOUNT, "dev"), {
                Sid: "AssumeSmokeRole",
                Effect: "Allow",
                Action: ["sts:AssumeRole"],
                Resource: `arn:aws:iam::${ACCOUNT}:role/SmokeRole-dev`,
            });
        });
    });

    describe("the result line", () => {
        const R = "0123456789abcdef";
        const line = { releaseId: R, stack: "dev", runId: "r", passedAt: "2026-12-04T10:00:00.000Z", files: ["smoke/r/customers.csv"] };
        it("is the last line of stdout, checked against the release", () => {
            assert.deepEqual(parseSmokeStdout(`noise\n${JSON.stringify(line)}\n`, R), { releaseId: R, passedAt: line.passedAt, files: line.files });
        });
        it("is undefined while the command has not run (a preview)", () => assert.equal(parseSmokeStdout(undefined, R), undefined));
        const bad: Array<[string, string, RegExp]> = [
            ["no JSON line", "all 4 file(s) passed", /printed no result line/],
            ["another release", JSON.stringify({ ...line, releaseId: "fedcba9876543210" }), /ran for release fedcba9876543210, but this update deploys 0123456789abcdef/],
            ["no files", JSON.stringify({ ...line, files: [] }), /has files \[\], expected the non-empty list/],
            ["no timestamp", JSON.stringify({ ...line, passedAt: "yesterday" }), /has passedAt "yesterday"/],
            ["an array", "[]", /is an array/],
        ];
        for (const [title, stdout, message] of bad) it(`fails the update on ${title}`, () => assert.throws(() => parseSmokeStdout(stdout, R), message));
        it("names what is wrong with a value that is not a result", () => {
            assert.equal(smokeMarkerProblem(line), undefined);
            assert.match(smokeMarkerProblem({ ...line, releaseId: "../x" }) ?? "", /has releaseId "..\/x"/);
            assert.match(smokeMarkerProblem(null) ?? "", /is null/);
        });
    });
});
