/** Unit tests of functions/shared: logger, environment reader, backoff and the retry loop. */
import assert from "node:assert/strict";
import { EnvironmentError, readEnv } from "../../functions/shared/env";
import { Logger, parseLogLevel, serialiseError } from "../../functions/shared/logger";
import { backoffCeilingMs, backoffDelayMs, retryWithBackoff, RetriesExhaustedError } from "../../functions/shared/retry";

const FIXED = new Date("2025-03-01T12:00:00.000Z");

function capture(level: "DEBUG" | "INFO" | "WARN" | "ERROR" = "DEBUG") {
    const lines: string[] = [];
    const logger = new Logger({ service: "svc", level, sink: (l) => lines.push(l), clock: () => FIXED });
    return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

describe("structured logger", () => {
    it("writes one JSON object per line with timestamp, level, service, message and context", () => {
        const { logger, lines } = capture();

        logger.info("file started", { file_id: "abc", rows: 3 });

        assert.equal(lines.length, 1);
        assert.ok(!lines[0].includes("\n"));
        assert.deepEqual(JSON.parse(lines[0]), {
            timestamp: "2025-03-01T12:00:00.000Z",
            level: "INFO",
            service: "svc",
            message: "file started",
            file_id: "abc",
            rows: 3,
        });
    });

    it("carries a child's fields on every line without changing the parent", () => {
        const { logger, parsed } = capture();

        logger.child({ aws_request_id: "r1" }).child({ file_id: "f1" }).warn("skipped");
        logger.info("parent");

        const [child, parent] = parsed();
        assert.equal(child.aws_request_id, "r1");
        assert.equal(child.file_id, "f1");
        assert.equal(child.level, "WARN");
        assert.equal(parent.aws_request_id, undefined);
    });

    it("drops lines below its level", () => {
        const { logger, parsed } = capture("WARN");

        logger.debug("d");
        logger.info("i");
        logger.warn("w");
        logger.error("e");

        assert.deepEqual(
            parsed().map((l) => l.level),
            ["WARN", "ERROR"],
        );
    });

    it("serialises errors with name, message, stack, AWS metadata and cause", () => {
        const { logger, parsed } = capture();
        const cause = Object.assign(new Error("Rate exceeded"), {
            name: "ThrottlingException",
            $metadata: { httpStatusCode: 400, requestId: "req-1" },
        });

        logger.error("start failed", { error: new Error("StartJobRun failed", { cause }) });

        const { error } = parsed()[0];
        assert.equal(error.name, "Error");
        assert.equal(error.message, "StartJobRun failed");
        assert.match(error.stack, /^Error: StartJobRun failed\n\s+at /);
        assert.equal(error.cause.name, "ThrottlingException");
        assert.equal(error.cause.http_status, 400);
        assert.equal(error.cause.request_id, "req-1");
    });

    it("still writes the line when the context cannot be serialised", () => {
        const { logger, parsed } = capture();
        const refusing = { toJSON: () => { throw new Error("no"); } };

        logger.info("odd context", { refusing, file_id: "f1" });

        const [line] = parsed();
        assert.equal(line.message, "odd context");
        assert.equal(line.level, "INFO");
        assert.match(line.log_error, /context not serialisable: no/);
    });

    it("writes a line whose context is circular, without the cycle", () => {
        const { logger, parsed } = capture();
        const circular: Record<string, unknown> = { name: "c" };
        circular.self = circular;

        logger.info("odd context", { circular, file_id: "f1" });

        const [line] = parsed();
        assert.equal(line.message, "odd context");
        assert.equal(line.file_id, "f1");
        assert.deepEqual(line.circular, { name: "c" });
    });

    it("under Lambda's log level control, warns once that DEBUG lines are dropped, not once per child", () => {
        const saved = process.env.AWS_LAMBDA_LOG_LEVEL;
        process.env.AWS_LAMBDA_LOG_LEVEL = "INFO";
        try {
            const { logger, parsed } = capture("DEBUG");
            logger.child({ file_id: "f1" }).debug("dropped");
            logger.child({ file_id: "f2" }).info("kept");

            const lines = parsed();
            assert.equal(lines.filter((l) => /does not match AWS Lambda Advanced Logging Controls/.test(l.message)).length, 1);
            assert.deepEqual(
                lines.filter((l) => l.file_id).map((l) => l.message),
                ["kept"],
            );
        } finally {
            if (saved === undefined) delete process.env.AWS_LAMBDA_LOG_LEVEL;
            else process.env.AWS_LAMBDA_LOG_LEVEL = saved;
        }
    });

    it("adds the X-Ray trace id Lambda sets, so a line leads to its trace", () => {
        const saved = process.env._X_AMZN_TRACE_ID;
        process.env._X_AMZN_TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        try {
            const { logger, parsed } = capture();
            logger.info("traced");
            assert.equal(parsed()[0].xray_trace_id, "1-5759e988-bd862e3fe1be46a994272793");
        } finally {
            if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
            else process.env._X_AMZN_TRACE_ID = saved;
        }
    });

    it("describes non-Error throwables too", () => {
        assert.deepEqual(serialiseError("plain string"), { name: "NonError", message: "plain string" });
        assert.deepEqual(serialiseError({ code: 1 }), { name: "NonError", message: '{"code":1}' });
    });

    const levels: [input: string | undefined, level: string][] = [
        [undefined, "INFO"],
        ["", "INFO"],
        ["debug", "DEBUG"],
        [" Info ", "INFO"],
        ["WARNING", "WARN"],
        ["error", "ERROR"],
    ];
    for (const [input, level] of levels) {
        it(`parses LOG_LEVEL=${JSON.stringify(input)} as ${level}`, () => assert.equal(parseLogLevel(input), level));
    }

    it("names LOG_LEVEL when it is not a level", () => {
        assert.throws(() => parseLogLevel("TRACE"), /LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, got "TRACE"/);
    });
});

describe("environment reader", () => {
    it("returns the parsed values when all are valid", () => {
        const config = readEnv({ NAME: " x ", COUNT: "4" }, (r) => ({
            name: r.string("NAME"),
            count: r.int("COUNT", { min: 1, max: 5 }),
            missing: r.int("MISSING", { default: 7 }),
        }));
        assert.deepEqual(config, { name: "x", count: 4, missing: 7 });
    });

    it("collects every problem into one EnvironmentError", () => {
        assert.throws(
            () =>
                readEnv({ COUNT: "9", PATTERNED: "NO" }, (r) => ({
                    name: r.string("NAME"),
                    count: r.int("COUNT", { min: 1, max: 5 }),
                    patterned: r.string("PATTERNED", { pattern: /^[a-z]+$/, describe: "lowercase" }),
                    custom: r.parse("CUSTOM", () => {
                        throw new Error("CUSTOM is broken");
                    }, 0),
                })),
            (err: Error) => {
                assert.ok(err instanceof EnvironmentError);
                assert.deepEqual(err.problems, [
                    "NAME is required but not set",
                    'COUNT must be an integer between 1 and 5, got "9"',
                    'PATTERNED must be lowercase, got "NO"',
                    "CUSTOM is broken",
                ]);
                assert.match(err.message, /^Invalid environment: NAME is required but not set; COUNT must/);
                return true;
            },
        );
    });

    for (const raw of ["1e3", "0x10", "12abc", "1.0", " "]) {
        it(`does not accept ${JSON.stringify(raw)} as a required integer`, () => {
            assert.throws(() => readEnv({ N: raw }, (r) => r.int("N")), EnvironmentError);
        });
    }
});

describe("backoff schedule", () => {
    const options = { baseDelayMs: 1000, maxDelayMs: 8000 };

    it("doubles the ceiling per retry up to the cap", () => {
        assert.deepEqual(
            [1, 2, 3, 4, 5, 6].map((retry) => backoffCeilingMs(retry, options)),
            [1000, 2000, 4000, 8000, 8000, 8000],
        );
    });

    it("does not overflow for absurd retry numbers", () => {
        assert.equal(backoffCeilingMs(5000, options), 8000);
    });

    it("draws a full-jitter delay in [0, ceiling)", () => {
        assert.equal(backoffDelayMs(3, options, () => 0), 0);
        assert.equal(backoffDelayMs(3, options, () => 0.5), 2000);
        assert.equal(backoffDelayMs(3, options, () => 0.9999), 3999);
    });

    it("rejects retry numbers below 1", () => {
        assert.throws(() => backoffCeilingMs(0, options), RangeError);
    });
});

describe("retryWithBackoff", () => {
    const transient = () => Object.assign(new Error("busy"), { name: "Busy" });
    const base = {
        operation: "Op",
        backoff: { baseDelayMs: 100, maxDelayMs: 1000 },
        isRetryable: (err: unknown) => err instanceof Error && err.name === "Busy",
        random: () => 0.5,
    };

    it("retries transient failures with growing delays, then returns the result", async () => {
        const delays: number[] = [];
        let calls = 0;

        const result = await retryWithBackoff(
            async (attempt) => {
                calls++;
                if (attempt < 3) throw transient();
                return "ok";
            },
            { ...base, maxAttempts: 5, sleep: async (ms) => void delays.push(ms) },
        );

        assert.equal(result, "ok");
        assert.equal(calls, 3);
        assert.deepEqual(delays, [50, 100]);
    });

    it("gives up after maxAttempts with the last error as cause", async () => {
        const delays: number[] = [];
        await assert.rejects(
            retryWithBackoff(
                async () => {
                    throw transient();
                },
                { ...base, maxAttempts: 3, sleep: async (ms) => void delays.push(ms) },
            ),
            (err: Error) => {
                assert.ok(err instanceof RetriesExhaustedError);
                assert.equal(err.attempts, 3);
                assert.equal(err.reason, "attempts");
                assert.equal((err.cause as Error).name, "Busy");
                assert.equal(err.message, "Op failed after 3 attempt(s): Busy: busy");
                return true;
            },
        );
        assert.equal(delays.length, 2);
    });

    it("does not retry an error that is not retryable", async () => {
        let calls = 0;
        await assert.rejects(
            retryWithBackoff(
                async () => {
                    calls++;
                    throw new Error("denied");
                },
                { ...base, maxAttempts: 5, sleep: async () => undefined },
            ),
            (err: Error) => err instanceof RetriesExhaustedError && err.reason === "not-retryable" && err.attempts === 1,
        );
        assert.equal(calls, 1);
    });

    it("stops when the next delay would eat into the reserved time", async () => {
        let remaining = 10_000;
        const delays: number[] = [];
        await assert.rejects(
            retryWithBackoff(
                async () => {
                    remaining -= 1000; // each call takes 1 s of the budget
                    throw transient();
                },
                {
                    ...base,
                    backoff: { baseDelayMs: 4000, maxDelayMs: 16_000 },
                    random: () => 0.99,
                    maxAttempts: 10,
                    remainingMs: () => remaining,
                    reserveMs: 3000,
                    sleep: async (ms) => {
                        delays.push(ms);
                        remaining -= ms;
                    },
                },
            ),
            (err: Error) => err instanceof RetriesExhaustedError && err.reason === "time-budget" && err.attempts === 2,
        );
        // 10 s: call (9 s left), sleep 3.96 s (5.04 s left), call (4.04 s left); the next 7.92 s delay does not fit.
        assert.deepEqual(delays, [3960]);
    });
});
