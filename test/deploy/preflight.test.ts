/**
 * `npm run preflight`: the judgements table-driven, the checks against the AWS emulator (moto server), and
 * the command itself on a scratch stack file (synth → plan → checks → exit code).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutPublicAccessBlockCommand } from "@aws-sdk/client-s3-control";
import { STSClient } from "@aws-sdk/client-sts";
import { GlueClient } from "@aws-sdk/client-glue";
import { S3Client } from "@aws-sdk/client-s3";
import {
    CheckResult,
    judgeAccount,
    judgeBucket,
    judgeConcurrency,
    judgeGlueVersion,
    judgePublicAccessBlock,
    judgeSecret,
    parsePreflightArgs,
    planFromGraph,
    PreflightClients,
    PreflightPlan,
    runPreflight,
    s3ControlClient,
} from "../../scripts/preflight";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, emulatorEnv, useEmulator } from "../support/emulator";

const REPO = path.resolve(__dirname, "..", "..");

const plan = (over: Partial<PreflightPlan> = {}): PreflightPlan => ({
    stack: "sandbox",
    accountId: EMULATOR_ACCOUNT_ID,
    region: EMULATOR_REGION,
    tags: { Project: "glue-data-pipeline", Environment: "sandbox" },
    buckets: [],
    reservations: [],
    secrets: [],
    glueVersions: ["5.1"],
    ...over,
});

describe("preflight judgements", () => {
    it("account: the caller's account must be the stack's accountId", () => {
        assert.strictEqual(judgeAccount("111111111111", "arn:aws:iam::111111111111:user/a", "111111111111").status, "PASS");
        const wrong = judgeAccount("222222222222", "arn:aws:iam::222222222222:user/a", "111111111111");
        assert.strictEqual(wrong.status, "FAIL");
        assert.match(wrong.detail, /222222222222.*accountId is 111111111111/);
        assert.strictEqual(judgeAccount(undefined, undefined, "111111111111").status, "FAIL");
    });

    describe("lambda concurrency", () => {
        const reserving = plan({ reservations: [{ functionName: "A", reserved: 10 }, { functionName: "B", reserved: 6 }] });
        const cases: Array<[string, PreflightPlan, number, number, Record<string, number>, "PASS" | "FAIL"]> = [
            ["a new account (quota 10) and no reservation", plan(), 10, 10, {}, "PASS"],
            ["a new account (quota 10) and 16 reserved", reserving, 10, 10, {}, "FAIL"],
            ["quota 1000, nothing reserved yet", reserving, 1000, 1000, {}, "PASS"],
            ["exactly the minimum left (116 - 16 = 100)", reserving, 116, 116, {}, "PASS"],
            ["one short of the minimum (115 - 16 = 99)", reserving, 115, 115, {}, "FAIL"],
            // A re-deploy: the stack's own reservations are already out of `unreserved` and come back.
            ["a re-deploy whose reservations are already counted", reserving, 116, 100, { A: 10, B: 6 }, "PASS"],
            ["others' reservations count against it", reserving, 1000, 110, {}, "FAIL"],
        ];
        for (const [name, p, limit, unreserved, current, expected] of cases) {
            it(`${name}: ${expected}`, () => {
                const result = judgeConcurrency(p, { accountLimit: limit, unreserved, currentByFunction: current });
                assert.strictEqual(result.status, expected, result.detail);
            });
        }
        it("names the functions and the remedy when it fails", () => {
            const result = judgeConcurrency(reserving, { accountLimit: 10, unreserved: 10, currentByFunction: {} });
            assert.match(result.detail, /A=10, B=6/);
            assert.match(result.detail, /leaves -6 unreserved, below Lambda's minimum of 100/);
        });
        it("takes another minimum when given one", () => {
            assert.strictEqual(judgeConcurrency(reserving, { accountLimit: 50, unreserved: 50, currentByFunction: {} }, 30).status, "PASS");
        });
    });

    it("glue version: known and supported, and Glue answering in the region", () => {
        assert.strictEqual(judgeGlueVersion("5.1", "eu-west-1", true).status, "PASS");
        assert.strictEqual(judgeGlueVersion("4.0", "eu-west-1", true).status, "PASS");
        assert.match(judgeGlueVersion("9.9", "eu-west-1", true).detail, /not a Glue version AWS lists; supported: 3.0, 4.0, 5.0, 5.1/);
        assert.match(judgeGlueVersion("2.0", "eu-west-1", true).detail, /end of support since 2024-01-31/);
        const down = judgeGlueVersion("5.1", "eu-west-1", false, "UnrecognizedClientException: bad token");
        assert.strictEqual(down.status, "FAIL");
        assert.match(down.detail, /bad token/);
    });

    it("bucket: 404 free, 200 ours, 403 and 301 taken, other errors fail", () => {
        const status = (probe: Parameters<typeof judgeBucket>[1]) => judgeBucket("b", probe, "111111111111").status;
        assert.strictEqual(status({ status: 404 }), "PASS");
        assert.strictEqual(status({ status: 200 }), "PASS");
        assert.strictEqual(status({ status: 403 }), "FAIL");
        assert.strictEqual(status({ status: 301 }), "FAIL");
        assert.strictEqual(status({ status: "error", message: "timeout" }), "FAIL");
    });

    it("public access block: all four on passes; partial or none warns", () => {
        const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
        assert.strictEqual(judgePublicAccessBlock(all, "1").status, "PASS");
        const partial = judgePublicAccessBlock({ ...all, RestrictPublicBuckets: false }, "1");
        assert.strictEqual(partial.status, "WARN");
        assert.match(partial.detail, /off: RestrictPublicBuckets/);
        assert.strictEqual(judgePublicAccessBlock(undefined, "1").status, "WARN");
    });

    it("secret: absent or ours passes; pending deletion or someone else's fails", () => {
        const tags = { Project: "p", Environment: "dev" };
        assert.strictEqual(judgeSecret("s", undefined, tags).status, "PASS");
        const ours = [{ Key: "Project", Value: "p" }, { Key: "Environment", Value: "dev" }];
        assert.strictEqual(judgeSecret("s", { Tags: ours, VersionIdsToStages: { v1: ["AWSCURRENT"] } }, tags).status, "PASS");
        assert.match(judgeSecret("s", { Tags: ours }, tags).detail, /has no value yet/);
        assert.strictEqual(judgeSecret("s", { Tags: ours, VersionIdsToStages: { v1: ["AWSPREVIOUS"] } }, tags).status, "WARN");
        assert.match(judgeSecret("s", { DeletedDate: new Date("2026-01-01T00:00:00Z") }, tags).detail, /scheduled for deletion/);
        assert.match(judgeSecret("s", { Tags: [{ Key: "Project", Value: "p" }] }, tags).detail, /without this stack's Environment tag/);
    });

    it("reads the plan from the resource graph: buckets, reservations, secrets, Glue versions", () => {
        const graph = {
            stack: "dev",
            outputs: {},
            resources: [
                {
                    type: "pulumi:providers:aws",
                    inputs: { allowedAccountIds: '["111111111111"]', region: "eu-west-1", defaultTags: '{"tags":{"Project":"p","Environment":"dev"}}' },
                },
                { type: "aws:s3/bucket:Bucket", inputs: { bucket: "b2" } },
                { type: "aws:s3/bucket:Bucket", inputs: { bucket: "b1" } },
                { type: "aws:lambda/function:Function", inputs: { name: "F", reservedConcurrentExecutions: 2 } },
                { type: "aws:lambda/function:Function", inputs: { name: "G" } },
                { type: "aws:secretsmanager/secret:Secret", inputs: { name: "s" } },
                { type: "aws:glue/job:Job", inputs: { glueVersion: "5.1" } },
                { type: "aws:glue/job:Job", inputs: { glueVersion: "5.1" } },
            ],
        };
        assert.deepStrictEqual(planFromGraph(graph), {
            stack: "dev",
            accountId: "111111111111",
            region: "eu-west-1",
            tags: { Project: "p", Environment: "dev" },
            buckets: ["b1", "b2"],
            reservations: [{ functionName: "F", reserved: 2 }],
            secrets: ["s"],
            glueVersions: ["5.1"],
        });
        assert.throws(() => planFromGraph({ ...graph, resources: graph.resources.slice(1) }), /no AWS provider/);
    });

    it("arguments: --stack required, unknown ones refused", () => {
        assert.deepStrictEqual(parsePreflightArgs(["--stack", "dev"]), { stack: "dev", stackFile: undefined, minUnreserved: undefined });
        assert.throws(() => parsePreflightArgs([]), /--stack is required/);
        assert.throws(() => parsePreflightArgs(["--stack", "dev", "--force"]), /unknown argument --force/);
        assert.throws(() => parsePreflightArgs(["--stack", "dev", "--min-unreserved", "x"]), /not a whole number/);
    });
});

describe("preflight against the AWS emulator", function () {
    this.timeout(120_000);
    const aws = useEmulator();

    /**
     * moto 5.1 serves GetFunctionConcurrency but not GetAccountSettings (verified: no route in moto/awslambda),
     * so the account's concurrency figures are given here; everything else is the emulator's answer.
     */
    class LambdaWithSettings extends LambdaClient {
        constructor(private readonly limit: number, private readonly unreserved: number) {
            super({ endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "t", secretAccessKey: "t" } });
        }
        override send(command: any, ...rest: any[]): any {
            if (command instanceof GetAccountSettingsCommand) {
                return Promise.resolve({ AccountLimit: { ConcurrentExecutions: this.limit, UnreservedConcurrentExecutions: this.unreserved } });
            }
            return (super.send as any)(command, ...rest);
        }
    }

    const clients = (lambda: LambdaClient): PreflightClients => {
        const common = { endpoint: aws.endpoint, region: EMULATOR_REGION, credentials: { accessKeyId: "t", secretAccessKey: "t" } };
        return {
            sts: new STSClient(common),
            lambda,
            glue: new GlueClient(common),
            s3: new S3Client({ ...common, forcePathStyle: true }),
            s3control: s3ControlClient({ region: EMULATOR_REGION, credentials: common.credentials }, aws.endpoint),
            secrets: new SecretsManagerClient(common),
        };
    };
    const byCheck = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.check, r]));

    it("passes a fresh account for a stack that reserves nothing", async () => {
        // Prepare: the account blocks public access; nothing of the stack exists yet.
        const c = clients(new LambdaWithSettings(10, 10));
        await c.s3control.send(
            new PutPublicAccessBlockCommand({
                AccountId: EMULATOR_ACCOUNT_ID,
                PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
            }),
        );
        // Act
        const results = await runPreflight(plan({ buckets: ["glue-input-sandbox-123456789012"], secrets: ["glue-pipeline/sandbox/key"] }), c);
        // Assess
        assert.deepStrictEqual(
            results.map((r) => `${r.status} ${r.check}`),
            [
                "PASS account",
                "PASS lambda concurrency",
                "PASS glue version 5.1",
                "PASS bucket glue-input-sandbox-123456789012",
                "PASS s3 account public access block",
                "PASS secret glue-pipeline/sandbox/key",
            ],
            JSON.stringify(results, null, 1),
        );
        assert.match(byCheck(results)["bucket glue-input-sandbox-123456789012"].detail, /free/);
    });

    it("fails on another account, a short quota, a secret pending deletion and someone else's secret", async () => {
        // Prepare: a bucket of ours from an earlier deploy, a secret scheduled for deletion, one of someone else.
        await aws.createBucket("glue-input-sandbox-123456789012");
        const sm = clients(new LambdaWithSettings(10, 10)).secrets;
        await sm.send(new CreateSecretCommand({ Name: "glue-pipeline/sandbox/deleted", SecretString: "x" }));
        await sm.send(new DeleteSecretCommand({ SecretId: "glue-pipeline/sandbox/deleted", RecoveryWindowInDays: 7 }));
        await sm.send(new CreateSecretCommand({ Name: "glue-pipeline/sandbox/foreign", SecretString: "x", Tags: [{ Key: "Project", Value: "other" }] }));
        // Ours, as the stack creates it: tagged, no value set yet; and ours with a value.
        const ourTags = [{ Key: "Project", Value: "glue-data-pipeline" }, { Key: "Environment", Value: "sandbox" }];
        await sm.send(new CreateSecretCommand({ Name: "glue-pipeline/sandbox/empty", Tags: ourTags }));
        await sm.send(new CreateSecretCommand({ Name: "glue-pipeline/sandbox/set", SecretString: "k", Tags: ourTags }));
        // Act
        const results = byCheck(
            await runPreflight(
                plan({
                    accountId: "999999999999",
                    buckets: ["glue-input-sandbox-123456789012"],
                    reservations: [{ functionName: "GlueTriggerLambda-sandbox", reserved: 5 }],
                    secrets: ["glue-pipeline/sandbox/deleted", "glue-pipeline/sandbox/foreign", "glue-pipeline/sandbox/empty", "glue-pipeline/sandbox/set"],
                }),
                clients(new LambdaWithSettings(10, 10)),
            ),
        );
        // Assess
        assert.strictEqual(results.account.status, "FAIL");
        assert.match(results.account.detail, /account 123456789012/);
        // GetFunctionConcurrency (moto) of a function not deployed yet: ResourceNotFound, read as 0 reserved today.
        assert.match(results["lambda concurrency"].detail, /the stack reserves 5 \(GlueTriggerLambda-sandbox=5\); that leaves 5 unreserved/);
        // Another account's public access block is not the caller's to read.
        assert.match(results["s3 account public access block"].detail, /AccessDenied/);
        assert.match(results["secret glue-pipeline/sandbox/deleted"].detail, /scheduled for deletion/);
        assert.match(results["secret glue-pipeline/sandbox/foreign"].detail, /without this stack's Project and Environment tag/);
        assert.strictEqual(results["secret glue-pipeline/sandbox/empty"].status, "WARN", results["secret glue-pipeline/sandbox/empty"].detail);
        assert.strictEqual(results["secret glue-pipeline/sandbox/set"].status, "PASS", results["secret glue-pipeline/sandbox/set"].detail);
    });

    it("a bucket that exists is ours (moto answers HeadBucket 200 to its owner); no account public access block warns", async () => {
        await aws.createBucket("glue-output-sandbox-123456789012");
        const results = byCheck(await runPreflight(plan({ buckets: ["glue-output-sandbox-123456789012"] }), clients(new LambdaWithSettings(1000, 1000))));
        const bucket = results["bucket glue-output-sandbox-123456789012"];
        assert.strictEqual(bucket.status, "PASS");
        assert.match(bucket.detail, /belongs to account 123456789012/);
        assert.strictEqual(results["s3 account public access block"].status, "WARN", results["s3 account public access block"].detail);
        assert.match(results["s3 account public access block"].detail, /has none/);
    });

    it("the command: reads the stack file through the program, prints a line per check, exits 1 on a failure", function () {
        this.timeout(120_000);
        // Prepare: a two-key sandbox stack in the emulator's account.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
        const stackFile = path.join(dir, "Pulumi.sandbox.yaml");
        fs.writeFileSync(
            stackFile,
            [
                "config:",
                `  aws:region: ${EMULATOR_REGION}`,
                "  glue-data-pipeline:stage: sandbox",
                `  glue-data-pipeline:accountId: "${EMULATOR_ACCOUNT_ID}"`,
                "  glue-data-pipeline:tags:",
                "    Project: glue-data-pipeline",
                "    Owner: test",
                "    CostCenter: test",
                "",
            ].join("\n"),
        );
        // Act
        const run = spawnSync(
            path.join(REPO, "node_modules", ".bin", "ts-node"),
            ["--transpile-only", "scripts/preflight.ts", "--stack", "sandbox", "--stack-file", stackFile],
            { cwd: REPO, encoding: "utf8", env: { ...process.env, ...emulatorEnv(aws.endpoint) }, timeout: 110_000 },
        );
        fs.rmSync(dir, { recursive: true, force: true });
        // Assess: the plan came from the program (its bucket names), each check printed; GetAccountSettings is
        // not served by moto, so that check fails, and with it the command.
        const out = run.stdout;
        assert.match(out, /^preflight of stack sandbox: account 123456789012, region eu-west-1$/m, out + run.stderr);
        assert.match(out, /^PASS {2}account: credentials are for account 123456789012/m);
        assert.match(out, /^PASS {2}bucket glue-input-sandbox-123456789012: free$/m);
        assert.match(out, /^PASS {2}glue version 5\.1:/m);
        assert.match(out, /^FAIL {2}lambda concurrency: could not check/m);
        assert.match(out, /check\(s\) failed/);
        // One line per check, also for an SDK error whose message runs over several lines.
        const body = out.trim().split("\n").slice(1, -1);
        assert.ok(body.length >= 6 && body.every((line) => /^(PASS|WARN|FAIL) {2}\S/.test(line)), out);
        assert.strictEqual(run.status, 1);
    });
});
