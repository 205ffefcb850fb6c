/**
 * A moto server that *executes* Step Functions state machines: moto's ASL interpreter (a port of
 * LocalStack's) runs the definition and calls the integrated services (Lambda, Glue, SNS) on the same
 * server. It needs two things test/support/emulator.ts's shared server does not have, hence its own process:
 *
 * - MOTO_PORT set to the server's own port: the interpreter's service calls go to localhost:MOTO_PORT;
 * - moto's config `stepfunctions.execute_state_machine` on, and `lambda.use_docker` off (Lambda invokes
 *   then answer from a queue of canned results instead of running code in Docker).
 *
 * What this can and cannot execute is stated in test/medallion/stateMachineExecution.test.ts.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, motoCommand } from "../../support/emulator";

export { EMULATOR_ACCOUNT_ID, EMULATOR_REGION };

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/**
 * A fix applied to moto's interpreter in this server process only: `.sync` tasks of services without the
 * waitForTaskToken pattern (Glue) crash in a `finally` that calls `interrupt_all()` on a callback endpoint
 * that is None (moto 5.1.18 and 5.2.5; fixed upstream in LocalStack's interpreter, PR #13705). The patch
 * guards that one call and nothing else; it fails loudly if the code it patches changes.
 */
const SYNC_TASK_PATCH = [
    "import inspect, textwrap",
    "from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback as _cb",
    "_src = textwrap.dedent(inspect.getsource(_cb.StateTaskServiceCallback._eval_integration_pattern))",
    "_fixed = _src.replace('callback_endpoint.interrupt_all()', 'if callback_endpoint is not None: callback_endpoint.interrupt_all()')",
    "assert _fixed != _src, 'moto changed: the sync-task patch no longer applies; check whether it is still needed'",
    "_ns = {}",
    "exec(compile(_fixed, _cb.__file__, 'exec'), _cb.__dict__, _ns)",
    "_cb.StateTaskServiceCallback._eval_integration_pattern = _ns['_eval_integration_pattern']",
].join("\n");

const auth = (service: string) =>
    `AWS4-HMAC-SHA256 Credential=testing/20250101/${EMULATOR_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;

export class SfnEmulator {
    private proc: ChildProcess | undefined;
    private logFile = "";
    endpoint = "";

    async start(): Promise<void> {
        const { command, args } = motoCommand();
        const port = await freePort();
        this.logFile = path.join(os.tmpdir(), `moto-sfn-${process.pid}-${port}.log`);
        const out = fs.openSync(this.logFile, "w");
        const [flag, script] = args;
        this.proc = spawn(command, [flag, `${SYNC_TASK_PATCH}\n${script}`, "-H", "127.0.0.1", "-p", String(port)], {
            stdio: ["ignore", out, out],
            env: { ...process.env, MOTO_PORT: String(port), PYTHONUNBUFFERED: "1" },
        });
        fs.closeSync(out);
        this.proc.unref();
        this.endpoint = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 30_000;
        for (;;) {
            try {
                await fetch(`${this.endpoint}/moto-api/reset`, { signal: AbortSignal.timeout(1000) });
                break;
            } catch {
                if (Date.now() > deadline || this.proc.exitCode !== null) {
                    throw new Error(`moto (Step Functions) did not start: ${fs.readFileSync(this.logFile, "utf8").slice(-2000)}`);
                }
                await new Promise((r) => setTimeout(r, 100));
            }
        }
        await this.motoApi("config", { stepfunctions: { execute_state_machine: true }, lambda: { use_docker: false } });
    }

    logTail(lines = 40): string {
        try {
            return fs.readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
        } catch {
            return "(no log)";
        }
    }

    stop(): void {
        this.proc?.kill("SIGTERM");
        this.proc = undefined;
        if (this.logFile) fs.rmSync(this.logFile, { force: true });
    }

    async reset(): Promise<void> {
        await this.motoApi("reset");
        await this.motoApi("config", { stepfunctions: { execute_state_machine: true }, lambda: { use_docker: false } });
    }

    async motoApi(route: string, body?: unknown): Promise<void> {
        const res = await fetch(`${this.endpoint}/moto-api/${route}`, {
            method: "POST",
            ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
        });
        if (!res.ok) throw new Error(`moto-api/${route}: ${res.status} ${await res.text()}`);
    }

    /** The next Lambda invocations (any function) answer these payloads, in order. */
    queueLambdaResults(...payloads: unknown[]): Promise<void> {
        return this.motoApi("static/lambda-simple/response", {
            results: payloads.map((p) => (typeof p === "string" ? p : JSON.stringify(p))),
            region: EMULATOR_REGION,
            account_id: EMULATOR_ACCOUNT_ID,
        });
    }

    /** How a moto model advances through its states (`progression: manual` + `times` holds it). */
    setTransition(model: string, transition: Record<string, unknown>): Promise<void> {
        return this.motoApi("state-manager/set-transition", { model_name: model, transition });
    }

    unsetTransition(model: string): Promise<void> {
        return this.motoApi("state-manager/unset-transition", { model_name: model });
    }

    /**
     * A JSON-protocol call made directly: the SDK cannot parse moto's ISO timestamps where AWS sends epoch
     * seconds (DescribeExecution, GetExecutionHistory), so these go by hand.
     */
    async json(service: string, target: string, body: Record<string, unknown>, version = "1.0"): Promise<any> {
        const res = await fetch(this.endpoint, {
            method: "POST",
            headers: { "content-type": `application/x-amz-json-${version}`, "x-amz-target": target, authorization: auth(service) },
            body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status >= 500) throw new Error(`${target}: ${res.status}; moto's log ends with:\n${this.logTail()}`);
        if (!res.ok) throw new Error(`${target}: ${res.status} ${text}`);
        return text ? JSON.parse(text) : {};
    }

    /** A Query-protocol call (IAM, SNS). */
    async query(service: string, params: Record<string, string>): Promise<string> {
        const res = await fetch(this.endpoint, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", authorization: auth(service) },
            body: new URLSearchParams(params).toString(),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${params.Action}: ${res.status} ${text}`);
        return text;
    }

    sfn(action: string, body: Record<string, unknown>): Promise<any> {
        return this.json("states", `AWSStepFunctions.${action}`, body);
    }

    glue(action: string, body: Record<string, unknown>): Promise<any> {
        return this.json("glue", `AWSGlue.${action}`, body, "1.1");
    }

    sqs(action: string, body: Record<string, unknown>): Promise<any> {
        return this.json("sqs", `AmazonSQS.${action}`, body);
    }

    /** Polls DescribeExecution until the execution leaves RUNNING. */
    async waitForExecution(executionArn: string, timeoutMs = 60_000): Promise<any> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const out = await this.sfn("DescribeExecution", { executionArn });
            if (out.status !== "RUNNING") return out;
            if (Date.now() > deadline) throw new Error(`execution still RUNNING after ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    /** Every event of an execution's history, oldest first. */
    async history(executionArn: string): Promise<any[]> {
        const events: any[] = [];
        let nextToken: string | undefined;
        do {
            const out = await this.sfn("GetExecutionHistory", { executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
            events.push(...out.events);
            nextToken = out.nextToken ?? undefined;
        } while (nextToken);
        return events;
    }
}

/** The names of the states an execution entered, in order (from its history). */
export function enteredStates(events: readonly any[]): string[] {
    return events.filter((e) => e.type.endsWith("StateEntered")).map((e) => e.stateEnteredEventDetails.name);
}
