/**
 * What drives cost in a synth graph: Glue jobs (worker type, worker cap, STANDARD or FLEX), Lambda functions
 * (memory, architecture, and what invokes them: S3 notifications, Glue state-change rules, schedules),
 * buckets and their lifecycle rules, DynamoDB tables, alarms, dashboards, log groups, KMS keys, email
 * subscriptions, queues, warehouses, and the fast paths (a converter the trigger routes small files to).
 * Reads scripts/synth.ts's resources; knows nothing of prices.
 */
import { StorageClass } from "./costPrices";
import { DEFAULT_FAST_PATH, FastPathInfo } from "./costFastPath";
import { GLUE_TRIGGER_ENV } from "../functions/glue-trigger/contract";
import { CSV_CONVERTER_CONTRACT as converterContract } from "../functions/csv-converter/contract";

/** The trigger's fast-path variables: the routing limit, and the converter it sends the files at or below it to. */
export const TRIGGER_FAST_PATH_ENV = { maxBytes: GLUE_TRIGGER_ENV.fastPathMaxBytes, functionName: GLUE_TRIGGER_ENV.fastPathFunctionName } as const;


/** The part of a synth graph resource the model reads (scripts/synth.ts's SynthResult["resources"]). */
export interface GraphResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
}

export interface LifecycleRuleInfo {
    readonly prefix: string;
    readonly expirationDays?: number;
    readonly noncurrentDays?: number;
    readonly transitions: readonly { readonly days: number; readonly storageClass: StorageClass }[];
}

export interface Inventory {
    readonly glueJobs: readonly { name: string; workerType: string; maxWorkers: number; executionClass: "STANDARD" | "FLEX" }[];
    readonly functions: readonly {
        name: string;
        memoryMb: number;
        architecture: "arm64" | "x86_64";
        /** Invoked for S3 notifications: directly, or through a queue the bucket notifies and a mapping reads (the triggers). */
        s3Triggered: boolean;
        /** Invoked by a Glue state-change rule: once per run. */
        glueStateChanges: boolean;
        /** Scheduled invocations a month. */
        scheduledPerMonth: number;
    }[];
    readonly buckets: readonly { name: string; role: "input" | "output" | "assets" | "access-logs" | "other"; versioned: boolean; rules: readonly LifecycleRuleInfo[] }[];
    readonly tables: readonly { name: string; onDemand: boolean; pitr: boolean; indexes: number }[];
    readonly alarms: readonly { name: string; metrics: number }[];
    readonly dashboards: number;
    readonly logGroups: readonly { name: string; retentionDays: number }[];
    readonly kmsKeys: number;
    readonly emailSubscriptions: number;
    readonly queues: number;
    /** Queues an event source mapping reads for a function (S3 → queue → function): their SQS requests. */
    readonly feedQueues: readonly { queueArn: string; functionName: string; batchSize: number }[];
    /** Redshift Serverless workgroups (the claims warehouse, when a stack enables it). */
    readonly warehouses: readonly { name: string; baseCapacity: number }[];
    /** Converters a trigger routes files at or below its limit to (the CSV flow's fast path); their functions are in `functions` too. */
    readonly fastPaths: readonly FastPathInfo[];
}

/** Invocations a month of a schedule expression: rate(N unit) exactly; cron() only when daily. */
export function scheduledPerMonth(expression: string): number {
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
    const minutesInMonth = 30 * 24 * 60;
    if (rate) {
        const n = Number(rate[1]);
        const unit = rate[2].startsWith("minute") ? 1 : rate[2].startsWith("hour") ? 60 : 1440;
        return Math.floor(minutesInMonth / (n * unit));
    }
    const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expression.trim());
    if (cron && /^\d+$/.test(cron[1]) && /^\d+$/.test(cron[2]) && ["*", "?"].includes(cron[3]) && cron[4] === "*" && ["*", "?"].includes(cron[5])) return 30;
    throw new Error(`cost model: cannot count invocations of schedule ${JSON.stringify(expression)} (use rate(...) or a daily cron)`);
}

function bucketRole(name: string): Inventory["buckets"][number]["role"] {
    if (name.startsWith("glue-input-")) return "input";
    if (name.startsWith("glue-output-")) return "output";
    if (name.startsWith("glue-assets-")) return "assets";
    if (name.startsWith("glue-access-logs-")) return "access-logs";
    return "other";
}

const functionNameOfArn = (arn: unknown): string | undefined => (typeof arn === "string" ? /:function:([^:]+)/.exec(arn)?.[1] : undefined);

/** Reads what the cost depends on out of a synth graph. */
export function inventoryOf(resources: readonly GraphResource[]): Inventory {
    const of = (type: string) => resources.filter((r) => r.type === type);
    const rules = of("aws:cloudwatch/eventRule:EventRule");
    const targets = of("aws:cloudwatch/eventTarget:EventTarget");
    const permissions = of("aws:lambda/permission:Permission");
    const notifiedQueues = new Set(of("aws:s3/bucketNotification:BucketNotification").flatMap((n) => (n.inputs.queues ?? []).map((q: any) => q.queueArn)));
    const feedQueues = of("aws:lambda/eventSourceMapping:EventSourceMapping")
        .filter((m) => typeof m.inputs.eventSourceArn === "string" && /^arn:aws[a-z-]*:sqs:/.test(m.inputs.eventSourceArn))
        .map((m) => ({
            queueArn: m.inputs.eventSourceArn as string,
            functionName: functionNameOfArn(m.inputs.functionName) ?? String(m.inputs.functionName),
            // SQS's default batch.
            batchSize: m.inputs.batchSize ?? 10,
        }));
    const versioned = new Set(
        of("aws:s3/bucketVersioning:BucketVersioning")
            .filter((v) => v.inputs.versioningConfiguration?.status === "Enabled")
            .map((v) => v.inputs.bucket),
    );
    const functions = of("aws:lambda/function:Function");
    const envOf = (f: GraphResource): Record<string, unknown> => f.inputs.environment?.variables ?? {};
    const fastPaths = functions.flatMap((trigger): FastPathInfo[] => {
        const env = envOf(trigger);
        const converter = functions.find((f) => f.inputs.name === env[TRIGGER_FAST_PATH_ENV.functionName]);
        if (converter === undefined) return [];
        const maxBytes = Number(env[TRIGGER_FAST_PATH_ENV.maxBytes] ?? DEFAULT_FAST_PATH.maxBytes);
        return [
            {
                functionName: converter.inputs.name,
                // The job it falls back to: the converter's own setting, else the job the trigger starts.
                glueJobName: String(envOf(converter)[converterContract.env.glueJobName] ?? env[GLUE_TRIGGER_ENV.glueJobName]),
                memoryMb: converter.inputs.memorySize ?? 128,
                architecture: (converter.inputs.architectures ?? ["x86_64"])[0] === "arm64" ? "arm64" : "x86_64",
                // Lambda's default timeout.
                timeoutSeconds: converter.inputs.timeout ?? 3,
                maxBytes: Number.isFinite(maxBytes) ? maxBytes : DEFAULT_FAST_PATH.maxBytes,
            },
        ];
    });
    const lifecycle = new Map(of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").map((l) => [l.inputs.bucket, l.inputs.rules ?? []]));

    return {
        glueJobs: of("aws:glue/job:Job").map((j) => ({
            name: j.inputs.name,
            workerType: j.inputs.workerType ?? "G.1X",
            maxWorkers: j.inputs.numberOfWorkers ?? 2,
            executionClass: j.inputs.executionClass === "FLEX" ? "FLEX" : "STANDARD",
        })),
        functions: functions.map((f) => {
            const name: string = f.inputs.name;
            const ruleNames = targets.filter((t) => functionNameOfArn(t.inputs.arn) === name).map((t) => t.inputs.rule);
            const fnRules = rules.filter((r) => ruleNames.includes(r.inputs.name));
            return {
                name,
                memoryMb: f.inputs.memorySize ?? 128,
                architecture: (f.inputs.architectures ?? ["x86_64"])[0] === "arm64" ? "arm64" : "x86_64",
                s3Triggered:
                    permissions.some((p) => p.inputs.function === name && p.inputs.principal === "s3.amazonaws.com") ||
                    feedQueues.some((q) => q.functionName === name && notifiedQueues.has(q.queueArn)),
                glueStateChanges: fnRules.some((r) => typeof r.inputs.eventPattern === "string" && r.inputs.eventPattern.includes("Glue Job State Change")),
                scheduledPerMonth: fnRules.filter((r) => r.inputs.scheduleExpression).reduce((n, r) => n + scheduledPerMonth(r.inputs.scheduleExpression), 0),
            };
        }),
        buckets: of("aws:s3/bucket:Bucket").map((b) => ({
            name: b.inputs.bucket,
            role: bucketRole(b.inputs.bucket ?? ""),
            versioned: versioned.has(b.inputs.bucket),
            rules: (lifecycle.get(b.inputs.bucket) ?? [])
                .filter((r: any) => r.status !== "Disabled")
                .map(
                    (r: any): LifecycleRuleInfo => ({
                        prefix: r.filter?.prefix ?? "",
                        ...(r.expiration?.days ? { expirationDays: r.expiration.days } : {}),
                        ...(r.noncurrentVersionExpiration?.noncurrentDays ? { noncurrentDays: r.noncurrentVersionExpiration.noncurrentDays } : {}),
                        transitions: (r.transitions ?? []).map((t: any) => ({ days: t.days, storageClass: t.storageClass as StorageClass })),
                    }),
                ),
        })),
        tables: of("aws:dynamodb/table:Table").map((t) => ({
            name: t.inputs.name,
            onDemand: t.inputs.billingMode === "PAY_PER_REQUEST",
            pitr: t.inputs.pointInTimeRecovery?.enabled === true,
            indexes: (t.inputs.globalSecondaryIndexes ?? []).length,
        })),
        alarms: of("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => ({
            name: a.inputs.name,
            metrics: a.inputs.metricQueries ? a.inputs.metricQueries.filter((q: any) => q.metric).length : 1,
        })),
        dashboards: of("aws:cloudwatch/dashboard:Dashboard").length,
        logGroups: of("aws:cloudwatch/logGroup:LogGroup").map((g) => ({ name: g.inputs.name, retentionDays: g.inputs.retentionInDays ?? 0 })),
        kmsKeys: of("aws:kms/key:Key").length,
        emailSubscriptions: of("aws:sns/topicSubscription:TopicSubscription").filter((s) => s.inputs.protocol === "email").length,
        queues: of("aws:sqs/queue:Queue").length,
        feedQueues,
        // Redshift Serverless' default base capacity is 128 RPU when none is given.
        warehouses: of("aws:redshiftserverless/workgroup:Workgroup").map((g) => ({ name: g.inputs.workgroupName, baseCapacity: g.inputs.baseCapacity ?? 128 })),
        fastPaths,
    };
}
