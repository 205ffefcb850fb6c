/**
 * What every TypeScript Lambda function of this project is made of, whoever invokes it: the esbuild bundle,
 * its own log group (created before the function), a least-privilege role with an inline policy, the function
 * itself and, for a function invoked asynchronously, an SQS dead-letter queue with the retry settings that
 * lead to it. S3TriggeredLambda, LambdaFunction and GlueJobEventHandler all build on
 * {@link createLambdaFunctionResources} and add what their invocation needs (S3 permission and notification;
 * EventBridge rules; nothing, for a function Step Functions invokes synchronously).
 *
 * Children are created with `{ parent }` under the names `${name}-logs`, `-dlq`, `-dlq-policy`, `-role`,
 * `-policy`, `-function`, `-async`, so a component that moved onto this helper keeps its URNs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import {
    PolicyDocument,
    PolicyStatement,
    cloudWatchLogsWriteStatement,
    denyInsecureQueueTransport,
    kmsUseStatement,
    policyDocument,
    serviceAssumeRolePolicy,
    sqsSendMessageStatement,
    wildcardResourceViolations,
} from "../iam/iamPolicies";
import { LambdaBundle, REPO_ROOT, bundleFunction } from "./lambdaBundle";

export const LAMBDA_RUNTIME = "nodejs22.x";
export const LAMBDA_ARCHITECTURE = "arm64";
/** The bundle is shipped as `index.js` exporting `handler`. */
export const LAMBDA_HANDLER = "index.handler";
export const DEFAULT_LOG_RETENTION_DAYS = 14;
/** SQS's maximum: two weeks to notice, fix and replay a failed event. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;
/** Lambda's own maximum: a burst that is throttled keeps retrying for up to 6 h before going to the DLQ. */
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21600;

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Environment variables the Lambda service sets itself and rejects in a function's configuration. */
export const RESERVED_ENVIRONMENT_VARIABLES: readonly string[] = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
];

/** The log group Lambda writes to by default; we create it ourselves so that retention and encryption are ours. */
export const lambdaLogGroupName = (functionName: string): string => `/aws/lambda/${functionName}`;

/** Account ID from any ARN (`arn:partition:service:region:account:...`). */
export function accountOfArn(arn: string): string {
    const account = arn.split(":")[4];
    if (!/^\d{12}$/.test(account ?? "")) throw new Error(`accountOfArn: no account ID in ${JSON.stringify(arn)}`);
    return account;
}

/** The settings every function has, whichever component creates it. */
export interface LambdaFunctionBasics {
    /** Function name; also names the log group and the DLQ. 1-64 of `A-Za-z0-9-_`. */
    readonly functionName: string;
    /** Handler source, relative to the repository root (or absolute), exporting `handler`. */
    readonly entry: string;
    /** Environment variables of the function. @default none */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Statements added to the role's inline policy. Resource "*" is rejected for S3, DynamoDB, Glue, KMS and SQS actions. @default none */
    readonly policyStatements?: pulumi.Input<readonly PolicyStatement[]>;
    readonly timeoutSeconds?: number;
    readonly memorySizeMb?: number;
    /** Reserved concurrency (caps and guarantees parallel invocations). @default none */
    readonly reservedConcurrency?: number;
    /** KMS key for environment variables, the log group and the DLQ. @default AWS-managed encryption */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Days the log group keeps events. @default 14 */
    readonly logRetentionDays?: number;
    readonly description?: string;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

function requireIntegerIn(label: string, value: number, min: number, max: number, field: string): void {
    if (!Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${label}: ${field} must be a whole number from ${min} to ${max}, got ${value}`);
    }
}

/** Checks the function name; throws with a message naming the component and the field. */
export function validateFunctionName(label: string, functionName: string): void {
    // 64 is Lambda's limit; the DLQ's `<functionName>-dlq` then stays within SQS's 80.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionName ?? "")) {
        throw new Error(`${label}: functionName ${JSON.stringify(functionName)} must be 1-64 letters, digits, '-' or '_'`);
    }
}

export function validateEnvironmentKey(label: string, key: string): void {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new Error(`${label}: environment variable ${JSON.stringify(key)} is not a valid name`);
    if (RESERVED_ENVIRONMENT_VARIABLES.includes(key)) throw new Error(`${label}: environment variable ${key} is reserved by Lambda`);
}

/**
 * Checks the numeric settings, the log retention, the entry file and plain environment keys, with the
 * given defaults for timeout and memory. Throws with a message naming the component and the field.
 */
export function validateFunctionSettings(
    label: string,
    args: Pick<LambdaFunctionBasics, "timeoutSeconds" | "memorySizeMb" | "reservedConcurrency" | "logRetentionDays">,
    defaults: { timeoutSeconds: number; memorySizeMb: number }): void {
    requireIntegerIn(label, args.timeoutSeconds ?? defaults.timeoutSeconds, 1, 900, "timeoutSeconds");
    requireIntegerIn(label, args.memorySizeMb ?? defaults.memorySizeMb, 128, 10240, "memorySizeMb");
    if (args.reservedConcurrency !== undefined) requireIntegerIn(label, args.reservedConcurrency, 0, 100000, "reservedConcurrency");
    validateRetention(label, args.logRetentionDays);
}

/** How Lambda retries a failed asynchronous invocation before the event goes to the dead-letter queue. */
export interface AsyncInvocationSettings {
    /** Retries after a failed asynchronous invocation (0-2). @default 2 */
    readonly maximumRetryAttempts?: number;
    /** Seconds an event may wait (throttled or retrying) before it goes to the DLQ (60-21600). @default 21600 */
    readonly maximumEventAgeSeconds?: number;
}

/**
 * Checks the async retry settings; `fieldPrefix` is how the component's args name them (e.g.
 * `asyncInvocation.`), so the message names the field the caller wrote.
 */
export function validateAsyncInvocation(label: string, settings: AsyncInvocationSettings, fieldPrefix = ""): void {
    requireIntegerIn(label, settings.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS, 0, 2, `${fieldPrefix}maximumRetryAttempts`);
    requireIntegerIn(label, settings.maximumEventAgeSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS, 60, 21600, `${fieldPrefix}maximumEventAgeSeconds`);
}

export function validateRetention(label: string, logRetentionDays: number | undefined): void {
    const retention = logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
    if (!LOG_RETENTION_DAYS.includes(retention)) {
        throw new Error(`${label}: logRetentionDays ${retention} is not one CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(", ")})`);
    }
}

export function validateEntryAndEnvironment(label: string, args: Pick<LambdaFunctionBasics, "entry" | "environment">): void {
    const entry = path.isAbsolute(args.entry ?? "") ? args.entry : path.join(REPO_ROOT, args.entry ?? "");
    if (!args.entry || !fs.existsSync(entry) || !fs.statSync(entry).isFile()) {
        throw new Error(`${label}: entry ${JSON.stringify(args.entry)} is not a file (resolved to ${entry})`);
    }
    if (args.environment !== undefined && !pulumi.Output.isInstance(args.environment)) {
        for (const key of Object.keys(args.environment)) validateEnvironmentKey(label, key);
    }
}

export interface ExecutionPolicyParams {
    readonly logGroupArn: string;
    /** The function's dead-letter queue, when it has one. */
    readonly deadLetterQueueArn?: string;
    readonly kmsKeyArn?: string;
    readonly extraStatements?: readonly PolicyStatement[];
}

/**
 * The function role's inline policy: write to its own log group, send to its own DLQ (if any), use its KMS
 * key (decrypt environment, encrypt DLQ messages), X-Ray segments, then the caller's statements. Throws if
 * any statement grants S3, DynamoDB, Glue, KMS or SQS actions on Resource "*".
 */
export function executionPolicy(params: ExecutionPolicyParams, label = "S3TriggeredLambda"): PolicyDocument {
    const doc = policyDocument([
        cloudWatchLogsWriteStatement(params.logGroupArn, "WriteOwnLogGroup"),
        ...(params.deadLetterQueueArn ? [sqsSendMessageStatement(params.deadLetterQueueArn, "SendToDeadLetterQueue")] : []),
        ...(params.kmsKeyArn ? [kmsUseStatement(params.kmsKeyArn, "encryptDecrypt", { sid: "UseFunctionKey" })] : []),
        // X-Ray has no resource-level permissions for these two actions.
        { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" },
        ...(params.extraStatements ?? []),
    ]);
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) {
        throw new Error(`${label}: policy statements grant data-plane actions on Resource "*": ${JSON.stringify(violations)}`);
    }
    return doc;
}

/** Queue policy of a DLQ: refuse anything not sent over TLS. */
export function deadLetterQueuePolicy(queueArn: string): PolicyDocument {
    return policyDocument([denyInsecureQueueTransport(queueArn)]);
}

/** A function invoked asynchronously: its retry settings, and the dead-letter queue they end in. */
export interface AsyncInvocationSpec extends AsyncInvocationSettings {
    /**
     * How the DLQ is encrypted. `sqsManaged` even when the function has a key, for a queue another service
     * sends to (EventBridge cannot send to a queue under a customer key its key policy does not admit it to).
     * @default "functionKey": the function's `kmsKeyArn`, else SQS-managed
     */
    readonly deadLetterQueueEncryption?: "functionKey" | "sqsManaged";
    /** The DLQ's policy (JSON) from its ARN. @default TLS only ({@link deadLetterQueuePolicy}) */
    readonly deadLetterQueuePolicy?: (queueArn: pulumi.Output<string>) => pulumi.Input<string>;
}

export interface LambdaFunctionSpec extends LambdaFunctionBasics {
    /** Names the component in error messages. */
    readonly label: string;
    /** Timeout and memory when the args leave them unset. */
    readonly defaults: { readonly timeoutSeconds: number; readonly memorySizeMb: number };
    /**
     * Invoked asynchronously: creates the SQS dead-letter queue (and its policy) and the event invoke config
     * (retries, event age, the DLQ as on-failure destination). @default none: invoked synchronously
     */
    readonly asyncInvocation?: AsyncInvocationSpec;
    /** Description when the args give none (the bundle's short hash is appended). */
    readonly defaultDescription: string;
}

export interface LambdaFunctionResources {
    readonly bundle: LambdaBundle;
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** Only with `asyncInvocation`. */
    readonly deadLetterQueue?: aws.sqs.Queue;
    readonly deadLetterQueuePolicy?: aws.sqs.QueuePolicy;
    readonly eventInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;
    readonly role: aws.iam.Role;
    readonly rolePolicy: aws.iam.RolePolicy;
    readonly function: aws.lambda.Function;
}

export interface ExecutionIdentitySpec {
    /** Names the component in error messages. */
    readonly label: string;
    readonly functionName: string;
    readonly logRetentionDays?: number;
    readonly kmsKeyArn?: pulumi.Input<string>;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The function's dead-letter queue, when it has one (its role may send to it). */
    readonly deadLetterQueueArn?: pulumi.Input<string>;
    /** The function's own statements, after the execution policy's (see {@link executionPolicy}). */
    readonly extraStatements: pulumi.Input<readonly PolicyStatement[]>;
}

export interface ExecutionIdentity {
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly role: aws.iam.Role;
    readonly rolePolicy: aws.iam.RolePolicy;
}

/**
 * What every function of the project runs as and logs to, whatever its runtime: its log group
 * (`${name}-logs`, the name Lambda logs to, retention, the key), its execution role (`${name}-role`) and the
 * role's inline policy (`${name}-policy`, {@link executionPolicy}), children of `parent`. Shared by the
 * bundled TypeScript functions and the Python CSV converter.
 */
export function createExecutionIdentity(parent: pulumi.Resource, name: string, spec: ExecutionIdentitySpec): ExecutionIdentity {
    const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-logs`,
        {
            name: lambdaLogGroupName(spec.functionName),
            retentionInDays: spec.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS,
            kmsKeyId: spec.kmsKeyArn,
            tags: spec.tags,
        },
        { parent },
    );
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            description: `Execution role of ${spec.functionName}`,
            assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("lambda.amazonaws.com")),
            tags: spec.tags,
        },
        { parent },
    );
    const rolePolicy = new aws.iam.RolePolicy(
        `${name}-policy`,
        {
            role: role.id,
            policy: pulumi
                .all([logGroup.arn, pulumi.output(spec.deadLetterQueueArn), pulumi.output(spec.kmsKeyArn), pulumi.output(spec.extraStatements)])
                .apply(([logGroupArn, dlqArn, keyArn, extra]) =>
                    JSON.stringify(
                        executionPolicy(
                            { logGroupArn, deadLetterQueueArn: dlqArn, kmsKeyArn: keyArn, extraStatements: extra as PolicyStatement[] },
                            spec.label,
                        ),
                    ),
                ),
        },
        { parent },
    );
    return { logGroup, role, rolePolicy };
}

/**
 * Creates the bundle, log group, role, policy and function as children of `parent`, and with
 * `asyncInvocation` the DLQ, its policy and the event invoke config. The caller validates its arguments
 * first (so that nothing is created for invalid ones).
 */
export function createLambdaFunctionResources(parent: pulumi.Resource, name: string, spec: LambdaFunctionSpec): LambdaFunctionResources {
    const bundle = bundleFunction(spec.entry);
    const kmsKeyArn = spec.kmsKeyArn;
    const asyncInvocation = spec.asyncInvocation;

    let deadLetterQueue: aws.sqs.Queue | undefined;
    let deadLetterQueuePolicyResource: aws.sqs.QueuePolicy | undefined;
    if (asyncInvocation) {
        const queueKey = asyncInvocation.deadLetterQueueEncryption === "sqsManaged" ? undefined : kmsKeyArn;
        deadLetterQueue = new aws.sqs.Queue(
            `${name}-dlq`,
            {
                name: `${spec.functionName}-dlq`,
                messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
                ...(queueKey !== undefined ? { kmsMasterKeyId: queueKey } : { sqsManagedSseEnabled: true }),
                tags: spec.tags,
            },
            { parent },
        );
        deadLetterQueuePolicyResource = new aws.sqs.QueuePolicy(
            `${name}-dlq-policy`,
            {
                queueUrl: deadLetterQueue.url,
                policy: asyncInvocation.deadLetterQueuePolicy
                    ? asyncInvocation.deadLetterQueuePolicy(deadLetterQueue.arn)
                    : deadLetterQueue.arn.apply((arn) => JSON.stringify(deadLetterQueuePolicy(arn))),
            },
            { parent },
        );
    }

    const { logGroup, role, rolePolicy } = createExecutionIdentity(parent, name, {
        label: spec.label,
        functionName: spec.functionName,
        logRetentionDays: spec.logRetentionDays,
        kmsKeyArn,
        tags: spec.tags,
        deadLetterQueueArn: deadLetterQueue?.arn,
        extraStatements: spec.policyStatements ?? [],
    });

    const environment =
        spec.environment === undefined
            ? undefined
            : pulumi.output(spec.environment).apply((vars) => {
                  Object.keys(vars).forEach((key) => validateEnvironmentKey(spec.label, key));
                  return { variables: vars };
              });

    const fn = new aws.lambda.Function(
        `${name}-function`,
        {
            name: spec.functionName,
            description: spec.description ?? `${spec.defaultDescription}; bundle ${bundle.sha256.slice(0, 12)}`,
            runtime: LAMBDA_RUNTIME,
            architectures: [LAMBDA_ARCHITECTURE],
            handler: LAMBDA_HANDLER,
            code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundle.code) }),
            role: role.arn,
            timeout: spec.timeoutSeconds ?? spec.defaults.timeoutSeconds,
            memorySize: spec.memorySizeMb ?? spec.defaults.memorySizeMb,
            ...(environment !== undefined ? { environment } : {}),
            kmsKeyArn,
            tracingConfig: { mode: "Active" },
            reservedConcurrentExecutions: spec.reservedConcurrency,
            // JSON: platform lines (START/REPORT) become queryable fields; our logger already writes JSON to stdout.
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
            tags: spec.tags,
        },
        // The log group first (else Lambda creates an unmanaged one on first invoke); the policy first
        // (else the first invocations run without permissions).
        { parent, dependsOn: [logGroup, rolePolicy] },
    );

    const eventInvokeConfig =
        asyncInvocation && deadLetterQueue
            ? new aws.lambda.FunctionEventInvokeConfig(
                  `${name}-async`,
                  {
                      functionName: fn.name,
                      maximumRetryAttempts: asyncInvocation.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
                      maximumEventAgeInSeconds: asyncInvocation.maximumEventAgeSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
                      destinationConfig: { onFailure: { destination: deadLetterQueue.arn } },
                  },
                  // Lambda checks that the role may send to the destination when the config is saved.
                  { parent, dependsOn: [rolePolicy] },
              )
            : undefined;

    return { bundle, logGroup, deadLetterQueue, deadLetterQueuePolicy: deadLetterQueuePolicyResource, eventInvokeConfig, role, rolePolicy, function: fn };
}
