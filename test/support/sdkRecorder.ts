/**
 * Records every AWS SDK command a Lambda handler sends while its tests run against the emulator, so the
 * access contract can prove each one is allowed for the function's real role (test/access/sdkCommands.test.ts).
 *
 * How: a mocha root hook (loaded by .mocharc's `require`) wraps the SDK's one `Client.prototype.send` (every
 * v3 client, the DynamoDB document client included, inherits it). A call is attributed to the function whose
 * folder (`functions/<name>/`, not `functions/shared/`) is on the call's stack: handlers await their sends, so
 * V8's async stack traces keep the handler's frames; calls made by the tests themselves (fixtures, asserts)
 * have no such frame and are not recorded.
 *
 * What is kept is what the request does, not the names a test happens to use (the handlers read their
 * names from the environment, which the deployed function has from the stack): the operation and, for S3,
 * the top folder of the key (and of a copy's source). test/access/sdkCommands.test.ts gives each request the
 * deployed function's own names. The list is test/access/sdkCommands.json: after the run, every operation a
 * function sent must be in it (regenerate with UPDATE_SDK_COMMANDS=1 and review the diff).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FUNCTION_DEPLOYMENTS } from "../access/functionDeployments";

const ROOT = path.resolve(__dirname, "../..");
export const SDK_COMMANDS_FILE = path.join(ROOT, "test/access/sdkCommands.json");

/** One kind of request a function's code sends. */
export interface RecordedCommand {
    /** `functions/<fn>/` */
    readonly fn: string;
    /** The SDK's serviceId (`S3`, `DynamoDB`, `Glue`, …). */
    readonly service: string;
    /** The API operation (`GetObject`, `UpdateItem`, …). */
    readonly operation: string;
    /** S3: the key's top folder (`raw/*`, or `*` at the root). */
    readonly key?: string;
    /** S3 CopyObject/UploadPartCopy: the source key's top folder. */
    readonly sourceKey?: string;
    /** S3: a version was named (VersionId, or `?versionId=` in a copy's source): IAM then asks for s3:GetObjectVersion. */
    readonly versioned?: true;
    readonly sourceVersioned?: true;
    /** S3 ListObjectsV2: the listed prefix's first two folders (`processed/claims/*`), what IAM sees as `s3:prefix`. */
    readonly prefix?: string;
    /** DynamoDB Query: the index, if any. */
    readonly indexName?: string;
}

/** lib-dynamodb's document commands and the DynamoDB operations they send. */
export const DOCUMENT_COMMANDS: Readonly<Record<string, string>> = {
    Get: "GetItem",
    Put: "PutItem",
    Update: "UpdateItem",
    Delete: "DeleteItem",
    BatchGet: "BatchGetItem",
    BatchWrite: "BatchWriteItem",
    TransactGet: "TransactGetItems",
    TransactWrite: "TransactWriteItems",
};

/** The key's first two folders: `raw/claims/2024/x.csv` → `raw/claims/*`, `a/x.csv` → `a/*`, `x.csv` → `*`. */
export const keyPattern = (key: string): string => {
    const folders = key.split("/").slice(0, -1).slice(0, 2);
    return folders.length === 0 ? "*" : `${folders.join("/")}/*`;
};

/** The source key of a CopySource (`bucket/key?versionId=…`, URL-encoded). */
const sourceKeyOf = (copySource: string): string => decodeURIComponent(copySource.split("?")[0]).replace(/^\//, "").split("/").slice(1).join("/");

/**
 * The function whose code made the call: the first frame of our code below the send (SDK and Node frames
 * skipped) must be in `functions/<name>/`; in `functions/shared/`, the nearest `functions/<name>/` caller
 * further down is. A send from a test's own code (a fixture, or a test double wrapping a client the handler
 * was given) is not the function's.
 */
export function functionOnStack(stack: string): string | undefined {
    const functionsDir = `${ROOT}${path.sep}functions${path.sep}`;
    const frames = stack.split("\n").slice(1).filter((l) => l.includes(ROOT) && !l.includes(`${path.sep}node_modules${path.sep}`) && !l.includes("sdkRecorder"));
    for (const frame of frames) {
        const i = frame.indexOf(functionsDir);
        if (i < 0) return undefined;
        const name = frame.slice(i + functionsDir.length).split(path.sep)[0];
        if (name !== "shared") return name;
    }
    return undefined;
}

const recorded = new Map<string, RecordedCommand>();
const keyOf = (c: RecordedCommand) => JSON.stringify([c.fn, c.service, c.operation, c.key ?? "", c.sourceKey ?? "", c.indexName ?? "", !!c.versioned, !!c.sourceVersioned, c.prefix ?? ""]);
/** What the run is held to: the operations each function sends (new folders of test keys are not news). */
const operationOf = (c: RecordedCommand) => `${c.fn} ${c.service} ${c.operation}`;

export function record(command: RecordedCommand): void {
    recorded.set(keyOf(command), command);
}

export const recordedCommands = (): RecordedCommand[] => [...recorded.values()];

export function readCommandList(file = SDK_COMMANDS_FILE): RecordedCommand[] {
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
}

let installed = false;
/** Wraps Client.prototype.send once per process. */
export function installSdkRecorder(): void {
    if (installed) return;
    installed = true;
    // The one copy of the SDK's client base class (every @aws-sdk/client-* resolves it from @smithy/core).
    const { Client } = require(require.resolve("@smithy/core/client", { paths: [require.resolve("@aws-sdk/client-s3")] }));
    const send = Client.prototype.send;
    Client.prototype.send = function (this: any, command: any, ...rest: unknown[]) {
        // Deep enough to reach past a shared module to the function that called it.
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 50;
        const stack = new Error().stack ?? "";
        Error.stackTraceLimit = limit;
        const fn = functionOnStack(stack);
        if (fn) {
            const service: string = this.config?.serviceId ?? "unknown";
            let operation = String(command?.constructor?.name ?? "").replace(/Command$/, "");
            if (service === "DynamoDB" && DOCUMENT_COMMANDS[operation]) operation = DOCUMENT_COMMANDS[operation];
            const input = command?.input ?? {};
            record({
                fn,
                service,
                operation,
                ...(typeof input.Key === "string" && service === "S3" ? { key: keyPattern(input.Key) } : {}),
                ...(typeof input.CopySource === "string" ? { sourceKey: keyPattern(sourceKeyOf(input.CopySource)) } : {}),
                ...(typeof input.Prefix === "string" && service === "S3" ? { prefix: keyPattern(input.Prefix) } : {}),
                ...(typeof input.IndexName === "string" ? { indexName: input.IndexName } : {}),
                ...(service === "S3" && input.VersionId ? { versioned: true as const } : {}),
                ...(typeof input.CopySource === "string" && /[?&]versionId=/.test(input.CopySource) ? { sourceVersioned: true as const } : {}),
            });
        }
        return send.call(this, command, ...rest);
    };
}

/** Mocha root hooks (.mocharc `require`): record during the run, then hold the run to the committed list. */
export const mochaHooks = {
    beforeAll(): void {
        installSdkRecorder();
    },
    afterAll(): void {
        const seen = recordedCommands();
        if (seen.length === 0) return;
        const committed = readCommandList();
        if (process.env.UPDATE_SDK_COMMANDS === "1") {
            const merged = new Map(committed.map((c) => [keyOf(c), c]));
            for (const c of seen.filter((x) => FUNCTION_DEPLOYMENTS[x.fn])) merged.set(keyOf(c), c);
            const sorted = [...merged.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
            fs.writeFileSync(SDK_COMMANDS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
            return;
        }
        const known = new Set(committed.map(operationOf));
        // A folder no deployed function runs yet (work in progress) has no role to be judged against: reported,
        // not failed. Once a stack deploys it, sdkCommands.test.ts demands its mapping and this gate applies.
        const unmapped = [...new Set(seen.filter((c) => !FUNCTION_DEPLOYMENTS[c.fn]).map((c) => c.fn))];
        if (unmapped.length > 0) console.warn(`    sdkRecorder: functions/${unmapped.join(", functions/")} not deployed in FUNCTION_DEPLOYMENTS: their SDK requests are not judged`);
        const missing = [...new Set(seen.filter((c) => FUNCTION_DEPLOYMENTS[c.fn]).map(operationOf))].filter((op) => !known.has(op));
        if (missing.length > 0) {
            throw new Error(
                `functions sent AWS SDK operations the access contract does not know (test/access/sdkCommands.json): ${missing.join("; ")}. ` +
                    "Rerun their tests with UPDATE_SDK_COMMANDS=1, review the diff, and run test/access/sdkCommands.test.ts",
            );
        }
    },
};
