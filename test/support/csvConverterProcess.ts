/**
 * The CSV converter Lambda (functions/csv-converter/handler.py) run as Lambda runs it, offline: one Python
 * process from the project's .venv is one execution environment. Its handler module is imported once (the
 * cold start: settings, clients, DuckDB), then each invocation hands it one SQS event and gets its answer
 * (`batchItemFailures`) back, while the process's stdout — the function's JSON logs and its CloudWatch
 * embedded-metric lines, which Lambda would ship to CloudWatch Logs — is collected line by line.
 *
 * Events and answers travel on a pipe of their own (fd 3), one JSON document a line, so nothing the handler
 * prints can be mistaken for an answer. The process exits when its stdin closes, which its parent's end
 * (however it ends, even killed) does too.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import type { SQSEvent } from "aws-lambda";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const CSV_CONVERTER_HANDLER = path.join(REPO_ROOT, "functions", "csv-converter", "handler.py");
const PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");

/**
 * The runtime's loop, in Python: import the handler from its file, then for each event line on stdin call
 * handler(event, context) with a context whose remaining time counts down from the line's `timeoutMs`.
 */
const RUNTIME = [
    "import importlib.util, json, os, sys, time",
    "answers = os.fdopen(3, 'w', buffering=1)",
    "spec = importlib.util.spec_from_file_location('csv_converter_handler', sys.argv[1])",
    "module = importlib.util.module_from_spec(spec)",
    "spec.loader.exec_module(module)",
    "class Context:",
    "    def __init__(self, timeout_ms, request_id):",
    "        self.deadline = time.monotonic() + timeout_ms / 1000",
    "        self.aws_request_id = request_id",
    "    def get_remaining_time_in_millis(self):",
    "        return max(0, int((self.deadline - time.monotonic()) * 1000))",
    "answers.write(json.dumps({'ready': True}) + '\\n')",
    "for line in sys.stdin:",
    "    call = json.loads(line)",
    "    try:",
    "        answer = {'answer': module.handler(call['event'], Context(call['timeoutMs'], call['requestId']))}",
    "    except BaseException as err:",
    "        answer = {'error': f'{type(err).__name__}: {err}'}",
    "    sys.stdout.flush()",
    "    answers.write(json.dumps(answer) + '\\n')",
].join("\n");

export interface ConverterInvocation {
    /** What the handler returned (the event source mapping deletes every message it does not name). */
    readonly answer?: { readonly batchItemFailures: readonly { readonly itemIdentifier: string }[] };
    /** The exception the handler raised (the whole batch returns to the queue), as `Type: message`. */
    readonly error?: string;
    /** The stdout lines the invocation printed (JSON logs, EMF metric documents), parsed where they are JSON. */
    readonly lines: readonly unknown[];
}

/** One warm execution environment of the converter. */
export class CsvConverterProcess {
    private readonly lines: unknown[] = [];
    private readonly waiting: ((line: string) => void)[] = [];
    private readonly stderr: string[] = [];
    private exited: string | undefined;
    private invocations = 0;

    private constructor(private readonly child: ChildProcess) {
        readline.createInterface({ input: child.stdout! }).on("line", (line) => {
            try {
                this.lines.push(JSON.parse(line));
            } catch {
                this.lines.push(line);
            }
        });
        child.stderr!.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString("utf8")));
        readline.createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on("line", (line) => this.waiting.shift()?.(line));
        child.on("exit", (code, signal) => {
            this.exited = `exit code ${code}, signal ${signal}`;
            for (const resolve of this.waiting.splice(0)) resolve(JSON.stringify({ error: `the converter process ended (${this.exited}): ${this.stderrTail()}` }));
        });
    }

    /**
     * Starts the process with `env` (the function's environment as the stack sets it, plus the emulator's
     * endpoint and credentials) and waits for its cold start to finish.
     */
    static async start(env: Record<string, string>, handlerFile: string = CSV_CONVERTER_HANDLER): Promise<CsvConverterProcess> {
        const child = spawn(PYTHON, ["-c", RUNTIME, handlerFile], {
            stdio: ["pipe", "pipe", "pipe", "pipe"],
            env: { PATH: process.env.PATH ?? "", PYTHONUNBUFFERED: "1", ...env },
        });
        const runtime = new CsvConverterProcess(child);
        const ready = JSON.parse(await runtime.nextAnswer());
        if (!ready.ready) throw new Error(`the converter did not start: ${ready.error ?? JSON.stringify(ready)}`);
        return runtime;
    }

    private nextAnswer(): Promise<string> {
        if (this.exited) return Promise.resolve(JSON.stringify({ error: `the converter process ended (${this.exited}): ${this.stderrTail()}` }));
        return new Promise((resolve) => this.waiting.push(resolve));
    }

    private stderrTail(): string {
        return this.stderr.join("").split("\n").slice(-20).join("\n");
    }

    /** Invokes the handler with `event`, as the event source mapping does, with `timeoutMs` of remaining time. */
    async invoke(event: SQSEvent, timeoutMs: number): Promise<ConverterInvocation> {
        const from = this.lines.length;
        const answered = this.nextAnswer();
        this.child.stdin!.write(`${JSON.stringify({ event, timeoutMs, requestId: `converter-${++this.invocations}` })}\n`);
        const result = JSON.parse(await answered) as Omit<ConverterInvocation, "lines">;
        // The answer comes after the handler flushed its stdout; give the reader the lines already in the pipe.
        await new Promise((resolve) => setImmediate(resolve));
        return { ...result, lines: this.lines.slice(from) };
    }

    /** Every stdout line so far. */
    output(): readonly unknown[] {
        return [...this.lines];
    }

    /** Ends the environment (stdin closed: the loop ends and the process exits). */
    async stop(): Promise<void> {
        if (this.exited) return;
        const gone = new Promise((resolve) => this.child.once("exit", resolve));
        this.child.stdin!.end();
        const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
    }
}
