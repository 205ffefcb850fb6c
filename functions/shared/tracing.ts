/**
 * X-Ray subsegments for every AWS SDK client a function creates, through Powertools for AWS Lambda's Tracer.
 * Active tracing is on for every function (components/compute/lambdaFunctionResources.ts), so Lambda opens a
 * segment per invocation; tracing a client puts each of its calls (GetItem, StartJobRun, Publish, ...) under
 * it with its latency, status and request id.
 *
 * Off outside Lambda, so tests against the emulator never look for an X-Ray daemon: the Tracer enables
 * itself only when AWS_EXECUTION_ENV says it runs in Lambda (not under SAM local or the Amplify mock), and
 * POWERTOOLS_TRACE_ENABLED=false switches it off anywhere; then `trace` returns the client untouched.
 */
import { Tracer } from "@aws-lambda-powertools/tracer";

export interface ClientTracer {
    /** Whether clients are instrumented (only inside Lambda, unless switched off). */
    readonly enabled: boolean;
    /** Instruments an AWS SDK v3 client (and returns it). A DynamoDBDocumentClient built on it is traced too. */
    trace<T>(client: T): T;
}

/**
 * A tracer for one function's clients; `serviceName` annotates its subsegments. Only the SDK clients are
 * traced: capturing all of Node's HTTP traffic as well would nest a second subsegment under every SDK call.
 */
export function createClientTracer(serviceName: string): ClientTracer {
    const tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
    return { enabled: tracer.isTracingEnabled(), trace: (client) => tracer.captureAWSv3Client(client) };
}
