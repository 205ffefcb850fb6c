/**
 * The one harness for tests that talk to AWS APIs: a moto server (from the project's .venv) on loopback,
 * started lazily once per mocha process, reset between tests, stopped when the process exits.
 *
 * Usage, inside a `describe`:
 *
 *     const aws = useEmulator();
 *     before(() => { handlerModule = require("../../functions/glue-trigger/handler"); });
 *     beforeEach(() => aws.createBucket("in"));
 *
 * `useEmulator()` registers hooks that start the server and point the AWS SDK at it through process.env
 * (AWS_ENDPOINT_URL, AWS_REGION, dummy credentials). Modules that create SDK clients at module scope must
 * therefore be loaded after its `before` hook has run: from a later `before` or inside the test.
 *
 * Why require() rather than `await import()`: with tsconfig's `module: node16`, TypeScript keeps
 * `import()` as Node's native ESM import, which cannot load a .ts file; require() goes through ts-node.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { CreateJobCommand, GlueClient, StartJobRunCommand } from "@aws-sdk/client-glue";
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

export const EMULATOR_REGION = "eu-west-1";
/** moto's default account id. */
export const EMULATOR_ACCOUNT_ID = "123456789012";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const VENV_BIN = path.join(REPO_ROOT, ".venv", "bin");
const STARTUP_TIMEOUT_MS = 30_000;

export interface RunningEmulator {
    readonly endpoint: string;
    readonly port: number;
    readonly logFile: string;
}

let running: Promise<RunningEmulator> | undefined;
let child: ChildProcess | undefined;

/**
 * moto's own server entry point (moto.server.main, what `moto_server` runs), with two changes:
 * - requests are served one at a time. moto's threaded server does not serialise writes to an item, so two
 *   concurrent conditional writes could both succeed, which DynamoDB never allows; one request at a time
 *   restores the per-item atomicity the claim logic relies on and that its concurrency test checks;
 * - it exits when its parent (this mocha process) is gone, however that process ended (even SIGKILL).
 */
const SERIAL_MOTO_SERVER = [
    "import os, sys, threading, time",
    "import moto.server as server",
    "from werkzeug.serving import run_simple",
    "parent = os.getppid()",
    "def watch_parent():",
    "    while os.getppid() == parent:",
    "        time.sleep(1)",
    "    os._exit(0)",
    "threading.Thread(target=watch_parent, daemon=True).start()",
    "server.run_simple = lambda *args, **kwargs: run_simple(*args, **{**kwargs, 'threaded': False})",
    "server.main(sys.argv[1:])",
].join("\n");

/** The command that runs moto's server from the venv, or an error telling the user how to get one. */
export function motoCommand(venvBin: string = VENV_BIN): { command: string; args: string[] } {
    const python = path.join(venvBin, "python");
    if (fs.existsSync(python)) return { command: python, args: ["-c", SERIAL_MOTO_SERVER] };
    throw new Error(
        `The AWS emulator (moto) is not installed: ${python} does not exist. ` +
            "Run `npm run setup` to create the project's Python environment (.venv with moto[server]), then rerun the tests.",
    );
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

function tail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "(no output)";
    }
}

async function answers(endpoint: string): Promise<boolean> {
    try {
        // Any HTTP answer means the server is accepting requests (GET on reset answers 400 by design).
        await fetch(`${endpoint}/moto-api/reset`, { signal: AbortSignal.timeout(1000) });
        return true;
    } catch {
        return false;
    }
}

async function launch(): Promise<RunningEmulator> {
    const { command, args } = motoCommand();
    // Another process can take the free port between our probe and moto's bind: try a few ports.
    for (let tries = 1; ; tries++) {
        const port = await freePort();
        const logFile = path.join(os.tmpdir(), `moto-${process.pid}-${port}.log`);
        const out = fs.openSync(logFile, "w");
        // Output goes to a file, not a pipe: an open pipe would keep mocha's event loop (and process) alive.
        const proc = spawn(command, [...args, "-H", "127.0.0.1", "-p", String(port)], {
            stdio: ["ignore", out, out],
            env: { ...process.env, PYTHONUNBUFFERED: "1" },
        });
        fs.closeSync(out);
        proc.unref();
        let exited: string | undefined;
        proc.on("exit", (code, signal) => {
            exited = `exit code ${code}, signal ${signal}`;
        });
        proc.on("error", (err) => {
            exited = err.message;
        });
        const endpoint = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + STARTUP_TIMEOUT_MS;
        while (exited === undefined && Date.now() < deadline && !(await answers(endpoint))) {
            await new Promise((r) => setTimeout(r, 100));
        }
        if (exited === undefined && Date.now() < deadline) {
            child = proc;
            process.once("exit", () => {
                child?.kill("SIGTERM");
                fs.rmSync(logFile, { force: true });
            });
            return { endpoint, port, logFile };
        }
        proc.kill("SIGKILL");
        const output = tail(logFile);
        if (tries < 3 && /address already in use/i.test(output)) continue;
        throw new Error(
            `The AWS emulator (moto server) did not start on ${endpoint} (${exited ?? `no answer within ${STARTUP_TIMEOUT_MS} ms`}). ` +
                `If the venv is missing or broken, run \`npm run setup\`. Its output:\n${output}`,
        );
    }
}

/** Starts the moto server once per process (later calls share it). */
export function startEmulator(): Promise<RunningEmulator> {
    running ??= launch().catch((err) => {
        running = undefined;
        throw err;
    });
    return running;
}

async function motoApi(endpoint: string, route: string, body?: unknown): Promise<void> {
    const response = await fetch(`${endpoint}/moto-api/${route}`, {
        method: "POST",
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    });
    if (!response.ok) throw new Error(`moto-api/${route} answered ${response.status}: ${await response.text()}`);
}

/** The environment the AWS SDK (and boto3) read to talk to the emulator instead of AWS. */
export function emulatorEnv(endpoint: string): Record<string, string> {
    return {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: EMULATOR_REGION,
        AWS_DEFAULT_REGION: EMULATOR_REGION,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_SESSION_TOKEN: "testing",
        // Never fall back to instance metadata or a developer's profile: tests must not reach real AWS.
        AWS_EC2_METADATA_DISABLED: "true",
    };
}

export interface PutObjectResult {
    readonly etag: string;
    readonly versionId?: string;
    readonly size: number;
}

export interface GlueJobOptions {
    /** @default 3 (the pipeline's setting) */
    readonly maxConcurrentRuns?: number;
    readonly defaultArguments?: Record<string, string>;
}

/** What `useEmulator()` returns: the endpoint, clients bound to it, and helpers to create fixtures. */
export class EmulatorHandle {
    private current: RunningEmulator | undefined;
    private clientsCache: { s3: S3Client; glue: GlueClient; dynamodb: DynamoDBClient; doc: DynamoDBDocumentClient } | undefined;
    private readonly transitionsSet = new Set<string>();

    /** @internal */
    attach(emulator: RunningEmulator): void {
        this.current = emulator;
    }

    get endpoint(): string {
        if (!this.current) throw new Error("The emulator is not started yet: use it from a hook or test, after useEmulator()'s before hook.");
        return this.current.endpoint;
    }

    /** SDK clients pointed at the emulator explicitly (independent of process.env), for Prepare/Assess. */
    get clients() {
        if (!this.clientsCache) {
            const common = {
                endpoint: this.endpoint,
                region: EMULATOR_REGION,
                credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
            };
            const dynamodb = new DynamoDBClient(common);
            this.clientsCache = {
                s3: new S3Client({ ...common, forcePathStyle: true }),
                glue: new GlueClient(common),
                dynamodb,
                doc: DynamoDBDocumentClient.from(dynamodb),
            };
        }
        return this.clientsCache;
    }

    /** Forgets every resource in the emulator and any state transition a test changed. */
    async reset(): Promise<void> {
        await motoApi(this.endpoint, "reset");
        for (const model of this.transitionsSet) await motoApi(this.endpoint, "state-manager/unset-transition", { model_name: model });
        this.transitionsSet.clear();
    }

    /** Overrides how a moto model advances through its states (https://docs.getmoto.org state transitions). */
    async setTransition(model: string, transition: Record<string, unknown>): Promise<void> {
        this.transitionsSet.add(model);
        await motoApi(this.endpoint, "state-manager/set-transition", { model_name: model, transition });
    }

    async unsetTransition(model: string): Promise<void> {
        this.transitionsSet.delete(model);
        await motoApi(this.endpoint, "state-manager/unset-transition", { model_name: model });
    }

    /**
     * Keeps new Glue job runs in STARTING, so they count against the job's MaxConcurrentRuns (moto enforces
     * it, but by default a run finishes the moment anything looks at it).
     */
    holdJobRuns(): Promise<void> {
        return this.setTransition("glue::job_run", { progression: "manual", times: 1_000_000 });
    }

    /** Lets held runs finish: the next time moto looks at them they are SUCCEEDED, freeing their slots. */
    releaseJobRuns(): Promise<void> {
        return this.unsetTransition("glue::job_run");
    }

    /**
     * Holds every new Glue job run until the test moves it on with {@link advanceJobRun}, one run at a time:
     * moto advances a run one state after `times` GetJobRun calls on that run (GetJobRuns advances them all,
     * so a test using this must not call it until it is done holding).
     */
    holdJobRunsIndividually(): Promise<void> {
        return this.setTransition("glue::job_run", { progression: "manual", times: 1 });
    }

    /**
     * Moves one held run (see {@link holdJobRunsIndividually}) on to `state`: RUNNING (still counted against
     * MaxConcurrentRuns) or SUCCEEDED (its slot freed). Returns the state reached.
     */
    async advanceJobRun(jobName: string, runId: string, state: "RUNNING" | "SUCCEEDED"): Promise<string> {
        let current = "";
        // STARTING → RUNNING → SUCCEEDED: a few calls at most; the bound stops a run that cannot get there.
        for (let call = 0; call < 6 && current !== state && current !== "SUCCEEDED"; call++) {
            current = (await this.jsonApi("glue", "AWSGlue.GetJobRun", { JobName: jobName, RunId: runId })).JobRun.JobRunState;
        }
        return current;
    }

    async createBucket(name: string, options: { readonly versioned?: boolean } = {}): Promise<void> {
        await this.clients.s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: EMULATOR_REGION } }));
        if (options.versioned) {
            await this.clients.s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }));
        }
    }

    async putObject(bucket: string, key: string, body: string | Uint8Array): Promise<PutObjectResult> {
        const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
        // An explicit length: the SDK treats an empty body as a stream of unknown length and warns.
        const out = await this.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength }));
        return {
            etag: (out.ETag ?? "").replace(/"/g, ""),
            ...(out.VersionId ? { versionId: out.VersionId } : {}),
            size: bytes.byteLength,
        };
    }

    /** The processing-metadata table as the contract defines it: hash `file_id`, GSI `by-status`. */
    async createMetadataTable(name: string): Promise<void> {
        await this.clients.dynamodb.send(
            new CreateTableCommand({
                TableName: name,
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [
                    { AttributeName: "file_id", AttributeType: "S" },
                    { AttributeName: "processing_status", AttributeType: "S" },
                    { AttributeName: "updated_at", AttributeType: "S" },
                ],
                KeySchema: [{ AttributeName: "file_id", KeyType: "HASH" }],
                GlobalSecondaryIndexes: [
                    {
                        IndexName: "by-status",
                        KeySchema: [
                            { AttributeName: "processing_status", KeyType: "HASH" },
                            { AttributeName: "updated_at", KeyType: "RANGE" },
                        ],
                        Projection: { ProjectionType: "ALL" },
                    },
                ],
            }),
        );
    }

    async getItem(table: string, key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
        const out = await this.clients.doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
        return out.Item;
    }

    async putItem(table: string, item: Record<string, unknown>): Promise<void> {
        await this.clients.doc.send(new PutCommand({ TableName: table, Item: item }));
    }

    async createGlueJob(name: string, options: GlueJobOptions = {}): Promise<void> {
        await this.clients.glue.send(
            new CreateJobCommand({
                Name: name,
                Role: `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:role/GlueServiceRole`,
                Command: { Name: "glueetl", ScriptLocation: "s3://glue-assets/scripts/file_processor_v2.py", PythonVersion: "3" },
                GlueVersion: "5.0",
                WorkerType: "G.1X",
                NumberOfWorkers: 2,
                Timeout: 60,
                ExecutionProperty: { MaxConcurrentRuns: options.maxConcurrentRuns ?? 3 },
                ...(options.defaultArguments ? { DefaultArguments: options.defaultArguments } : {}),
            }),
        );
    }

    /** Starts a run directly, e.g. to occupy the job's only concurrency slot. */
    async startJobRun(jobName: string, args: Record<string, string> = {}): Promise<string> {
        const out = await this.clients.glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: args }));
        return out.JobRunId!;
    }

    /**
     * Calls a JSON-protocol API directly. The SDK cannot parse some moto answers: moto writes Glue job-run
     * timestamps as ISO strings where the SDK expects epoch seconds, so GetJobRun(s) through the SDK fails
     * to deserialise. The trigger itself only calls StartJobRun, whose answer has no timestamps.
     */
    async jsonApi(service: string, target: string, body: Record<string, unknown>): Promise<any> {
        const response = await fetch(this.endpoint, {
            method: "POST",
            headers: {
                "content-type": "application/x-amz-json-1.1",
                "x-amz-target": target,
                // moto routes by the credential scope's service name; the signature itself is not checked.
                authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${EMULATOR_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
            },
            body: JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${target} answered ${response.status}: ${text}`);
        return JSON.parse(text);
    }

    /** One run of a job, with the arguments it was started with (defaults merged, as Glue does). */
    async jobRun(jobName: string, runId: string): Promise<EmulatedJobRun> {
        const out = await this.jsonApi("glue", "AWSGlue.GetJobRun", { JobName: jobName, RunId: runId });
        return out.JobRun as EmulatedJobRun;
    }

    /** Every run of a job, oldest first. */
    async jobRuns(jobName: string): Promise<EmulatedJobRun[]> {
        const runs: EmulatedJobRun[] = [];
        let token: string | undefined;
        do {
            const out = await this.jsonApi("glue", "AWSGlue.GetJobRuns", { JobName: jobName, ...(token ? { NextToken: token } : {}) });
            runs.push(...(out.JobRuns ?? []));
            token = out.NextToken ?? undefined;
        } while (token);
        return runs.sort((a, b) => a.StartedOn.localeCompare(b.StartedOn));
    }
}

/** The fields of a Glue JobRun the tests read (timestamps as moto sends them: ISO strings). */
export interface EmulatedJobRun {
    readonly Id: string;
    readonly JobName: string;
    readonly JobRunState: string;
    readonly StartedOn: string;
    readonly Arguments?: Record<string, string>;
}

/**
 * Registers hooks in the enclosing `describe`: start the emulator (once per process), point process.env at
 * it for the describe's duration, and reset its state before every test.
 */
export function useEmulator(): EmulatorHandle {
    const handle = new EmulatorHandle();
    const saved: Record<string, string | undefined> = {};

    before(async function () {
        this.timeout(STARTUP_TIMEOUT_MS + 10_000);
        handle.attach(await startEmulator());
        for (const [name, value] of Object.entries(emulatorEnv(handle.endpoint))) {
            saved[name] = process.env[name];
            process.env[name] = value;
        }
        saved.AWS_PROFILE = process.env.AWS_PROFILE;
        delete process.env.AWS_PROFILE;
    });

    beforeEach(() => handle.reset());

    after(() => {
        for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    });

    return handle;
}
