/**
 * The functions' SDK clients are traced in Lambda and left untouched elsewhere (functions/shared/tracing):
 * tests against the emulator must never look for an X-Ray daemon.
 */
import assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import { createClientTracer } from "../../functions/shared/tracing";
import { createTriggerDeps } from "../../functions/glue-trigger/trigger";
import { TriggerConfig } from "../../functions/glue-trigger/config";

/** The middleware the X-Ray SDK adds to an instrumented SDK v3 client. */
const XRAY_MIDDLEWARE = /XRaySDKInstrumentation/;
const instrumented = (client: { middlewareStack: { identify(): string[] } }) => client.middlewareStack.identify().some((m) => XRAY_MIDDLEWARE.test(m));

/** Runs `body` with the given environment variables set (undefined: unset), restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, body: () => T): T {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (values: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(values)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    };
    apply(vars);
    try {
        return body();
    } finally {
        apply(saved);
    }
}

const IN_LAMBDA = { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: undefined, AWS_SAM_LOCAL: undefined };

describe("SDK client tracing", () => {
    it("leaves clients untouched outside Lambda (no X-Ray daemon is needed by tests or scripts)", () => {
        withEnv({ AWS_EXECUTION_ENV: undefined, POWERTOOLS_TRACE_ENABLED: undefined }, () => {
            const tracer = createClientTracer("svc");
            const client = new S3Client({ region: "eu-west-1" });

            assert.equal(tracer.enabled, false);
            assert.equal(tracer.trace(client), client);
            assert.equal(instrumented(client), false);
        });
    });

    it("instruments a client in Lambda, where active tracing opens a segment per invocation", () => {
        withEnv(IN_LAMBDA, () => {
            const tracer = createClientTracer("svc");
            const client = tracer.trace(new S3Client({ region: "eu-west-1" }));

            assert.equal(tracer.enabled, true);
            assert.equal(instrumented(client), true);
        });
    });

    it("is switched off in Lambda too by POWERTOOLS_TRACE_ENABLED=false", () => {
        withEnv({ ...IN_LAMBDA, POWERTOOLS_TRACE_ENABLED: "false" }, () => {
            const tracer = createClientTracer("svc");
            assert.equal(tracer.enabled, false);
            assert.equal(instrumented(tracer.trace(new S3Client({ region: "eu-west-1" }))), false);
        });
    });

    it("traces the clients a function builds itself, not those a test passes in", () => {
        const config = { metadataTable: "t", glueJobName: "j", outputBucket: "o", fileSuffix: ".csv", logLevel: "INFO" } as unknown as TriggerConfig;
        withEnv(IN_LAMBDA, () => {
            const own = createTriggerDeps(config);
            assert.equal(instrumented(own.s3 as never), true);
            assert.equal(instrumented(own.glue as never), true);

            const given = new S3Client({ region: "eu-west-1" });
            assert.equal(instrumented(createTriggerDeps(config, { s3: given }).s3 as never), false);
        });
    });
});
