/**
 * The claims components under Pulumi mocks: ClaimsBucket (names, encryption, lifecycle transitions, access
 * logs), NotificationTopics (encrypted topics, email subscriptions), ClaimsPipeline (the flow's names, the job and
 * the function wired to them, every grant scoped to its prefixes).
 */
import * as assert from "node:assert/strict";
import * as b from "../../components/claims/claimsBucket";
import * as p from "../../components/claims/claimsPipeline";
import { CLAIMS_ARCHIVE_TRANSITIONS } from "../../components/storage/dataLakeBuckets";
import { wildcardResourceViolations } from "../../components/iam/iamPolicies";
import * as t from "../../components/messaging/notificationTopics";
import { CLAIMS_PREFIXES, CLAIMS_VALIDATION_ENV } from "../../functions/claims-validation/contract";
import { WAREHOUSE_MANIFEST_PREFIX } from "../../functions/claims-warehouse-load/contract";
import { MANIFEST_PREFIX } from "../../functions/claims-warehouse-load/manifest";
import { asList, descendantsOf, named, ofType, PolicyStatement, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/stack-key`;
const BUCKET = `glue-claims-test-${ACCOUNT}`;
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const QUEUE = "healthcare-claims-test-data-validation-queue";
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE}`;
const TABLE = { name: "etl-pipeline-metadata-test", arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/etl-pipeline-metadata-test` };
const ENV = {
    securityConfigurationName: "glue-pipeline-test",
    kmsKeyArn: KEY,
    databaseName: "glue_database_v2_test",
    databaseArn: `arn:aws:glue:${REGION}:${ACCOUNT}:database/glue_database_v2_test`,
    sharedLogGroupArns: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/jobs/output`],
};
const ASSETS = { bucket: `glue-assets-v2-test-${ACCOUNT}`, arn: `arn:aws:s3:::glue-assets-v2-test-${ACCOUNT}` };
const topicArn = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

const bySid = (statements: PolicyStatement[], sid: string): PolicyStatement => {
    const hit = statements.find((s) => s.Sid === sid);
    assert.ok(hit, `no statement ${sid} in ${statements.map((s) => s.Sid).join(", ")}`);
    return hit;
};
/** Every S3 object ARN an identity policy lets its holder act on with `action`. */
const s3Resources = (statements: PolicyStatement[], action: string) =>
    statements.filter((s) => s.Effect === "Allow" && asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));

describe("claims components", () => {
    describe("ClaimsBucket", () => {
        describe("pure helpers", () => {
            it("names the buckets inside the glue-*-{stage}-{account} pattern the deploy role may manage", () => {
                assert.deepEqual(b.claimsBucketNames("prod", ACCOUNT), { data: `glue-claims-prod-${ACCOUNT}`, accessLogs: `glue-claims-access-logs-prod-${ACCOUNT}` });
                assert.throws(() => b.claimsBucketNames("Prod", ACCOUNT), /stage/);
                assert.throws(() => b.claimsBucketNames("dev", "123"), /12-digit/);
            });

            it("keeps the prefixes in step with the validation function's contract", () => {
                assert.deepEqual(b.CLAIMS_BUCKET_PREFIXES, CLAIMS_PREFIXES);
            });

            it("keeps the warehouse load's manifest prefix in step with its contract (the grant the component gives)", () => {
                assert.equal(MANIFEST_PREFIX, WAREHOUSE_MANIFEST_PREFIX);
            });

            it("archives every claims-data prefix Standard → IA 30 d → Glacier 90 d → Deep Archive 365 d and never expires it", () => {
                const rules = b.claimsLifecycleRules({ transitions: CLAIMS_ARCHIVE_TRANSITIONS, tempExpirationDays: 3, noncurrentVersionExpirationDays: null, abortIncompleteMultipartUploadDays: 7 });
                for (const prefix of ["raw/", "processed/", "quarantine/", "validation-reports/"]) {
                    const rule = rules.find((r) => (r.filter as any)?.prefix === prefix);
                    assert.ok(rule, prefix);
                    assert.deepEqual(rule.transitions, [
                        { days: 30, storageClass: "STANDARD_IA" },
                        { days: 90, storageClass: "GLACIER" },
                        { days: 365, storageClass: "DEEP_ARCHIVE" },
                    ]);
                    assert.equal(rule.expiration, undefined, `${prefix} never expires`);
                }
                const expiring = rules.filter((r) => (r.expiration as any)?.days !== undefined || r.noncurrentVersionExpiration !== undefined);
                assert.deepEqual(expiring.map((r) => [r.id, (r.filter as any).prefix]), [["expire-temp", "temp/"]]);
                assert.deepEqual(rules.find((r) => r.id === "expire-temp")?.expiration, { days: 3 });
            });

            it("expires superseded versions only when asked, and rejects a transition S3 would refuse", () => {
                const rules = b.claimsLifecycleRules({ transitions: CLAIMS_ARCHIVE_TRANSITIONS, tempExpirationDays: 3, noncurrentVersionExpirationDays: 365, abortIncompleteMultipartUploadDays: 7 });
                assert.deepEqual(rules.find((r) => r.id === "expire-noncurrent-versions")?.noncurrentVersionExpiration, { noncurrentDays: 365 });
                assert.throws(
                    () => b.claimsLifecycleRules({ transitions: [{ days: 10, storageClass: "STANDARD_IA" }], tempExpirationDays: 3, noncurrentVersionExpirationDays: null, abortIncompleteMultipartUploadDays: 7 }),
                    /at least 30 days/,
                );
                assert.throws(() => b.claimsLifecycleRules({ transitions: CLAIMS_ARCHIVE_TRANSITIONS, tempExpirationDays: 0, noncurrentVersionExpirationDays: null, abortIncompleteMultipartUploadDays: 7 }), /tempExpirationDays/);
            });

            it("denies writes with an encryption other than SSE-KMS", () => {
                const deny = bySid(b.claimsBucketPolicyStatements(BUCKET_ARN), "DenyNonKmsEncryption");
                assert.deepEqual(deny.Condition, { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" }, Null: { "s3:x-amz-server-side-encryption": "false" } });
                assert.equal(deny.Resource, `${BUCKET_ARN}/*`);
            });
        });

        describe("with defaults", () => {
            before(async () => {
                resetRecorded();
                new b.ClaimsBucket("c", { stage: "test", accountId: ACCOUNT, kmsKeyArn: KEY });
                await waitForRegistrations();
            });

            it("creates the data bucket SSE-KMS with bucket keys, versioned, private, owner-enforced, TLS-only", () => {
                assert.equal(named("c-data", "aws:s3/bucket:Bucket").inputs.bucket, BUCKET);
                assert.deepEqual(named("c-data-sse").inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true }]);
                assert.equal(named("c-data-versioning").inputs.versioningConfiguration.status, "Enabled");
                const pab = named("c-data-public-access").inputs;
                assert.deepEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
                assert.equal(named("c-data-ownership").inputs.rule.objectOwnership, "BucketOwnerEnforced");
                const sids = statementsOf(named("c-data-policy").inputs.policy).map((s) => s.Sid);
                assert.deepEqual(sids, ["DenyInsecureTransport", "DenyOutdatedTls", "DenyNonKmsEncryption"]);
            });

            it("applies the archive lifecycle after versioning is on", () => {
                const lifecycle = named("c-data-lifecycle");
                const archived = lifecycle.inputs.rules.filter((r: any) => r.id.startsWith("archive-"));
                assert.deepEqual(archived.map((r: any) => r.filter.prefix), ["raw/", "processed/", "quarantine/", "validation-reports/"]);
                assert.ok(archived.every((r: any) => r.transitions.map((x: any) => `${x.days}:${x.storageClass}`).join(",") === "30:STANDARD_IA,90:GLACIER,365:DEEP_ARCHIVE"));
                assert.ok(lifecycle.dependencies.includes(named("c-data-versioning").urn));
            });

            it("logs access to its own log bucket, kept six years and archived after 90 days", () => {
                assert.equal(named("c-access-logs", "aws:s3/bucket:Bucket").inputs.bucket, `glue-claims-access-logs-test-${ACCOUNT}`);
                assert.equal(named("c-data-logging").inputs.targetPrefix, "claims/");
                assert.deepEqual(named("c-access-logs-sse").inputs.rules[0].applyServerSideEncryptionByDefault, { sseAlgorithm: "AES256" });
                const rule = named("c-access-logs-lifecycle").inputs.rules.find((r: any) => r.id === "archive-then-expire-access-logs");
                assert.deepEqual([rule.transitions, rule.expiration], [[{ days: 90, storageClass: "GLACIER" }], { days: 2192 }]);
                const delivery = bySid(statementsOf(named("c-access-logs-policy").inputs.policy), "S3ServerAccessLogsDelivery");
                assert.deepEqual(delivery.Resource, [`arn:aws:s3:::glue-claims-access-logs-test-${ACCOUNT}/claims/*`]);
            });

            it("keeps every bucket and its protections when the stack is destroyed", () => {
                const c = named("c", "glue-pipeline:storage:ClaimsBucket");
                const children = descendantsOf(c);
                assert.ok(children.length >= 14);
                for (const r of children) assert.equal(r.retainOnDelete, true, r.name);
                assert.equal(named("c-data", "aws:s3/bucket:Bucket").inputs.forceDestroy, false);
            });
        });

        it("with deletion allowed, lets destroy remove them", async () => {
            resetRecorded();
            new b.ClaimsBucket("d", { stage: "test", accountId: ACCOUNT, kmsKeyArn: KEY, allowDestroy: true });
            await waitForRegistrations();
            assert.equal(named("d-data", "aws:s3/bucket:Bucket").retainOnDelete, false);
            assert.equal(named("d-data", "aws:s3/bucket:Bucket").inputs.forceDestroy, true);
        });
    });

    describe("NotificationTopics", () => {
        const args = { processingTopicName: "claims-processing", errorTopicName: "claims-errors", kmsKeyArn: KEY };

        it("rejects names SNS refuses, one topic for both roles, and bad or repeated addresses", () => {
            assert.throws(() => t.validateNotificationTopicsArgs({ ...args, errorTopicName: "claims.errors" }), /errorTopicName/);
            assert.throws(() => t.validateNotificationTopicsArgs({ ...args, errorTopicName: "claims-processing" }), /the same/);
            assert.throws(() => t.validateNotificationTopicsArgs({ ...args, errorEmails: ["not-an-address"] }), /not an email address/);
            assert.throws(() => t.validateNotificationTopicsArgs({ ...args, errorEmails: ["a@example.com", "A@example.com"] }), /listed twice/);
        });

        it("builds publish grants on the topics and their key only", () => {
            const statements = t.topicPublishStatements([topicArn("a"), topicArn("b")], KEY);
            assert.deepEqual(statements[0], { Sid: "PublishNotifications", Effect: "Allow", Action: ["sns:Publish"], Resource: [topicArn("a"), topicArn("b")] });
            assert.deepEqual(statements[1].Resource, [KEY]);
            assert.throws(() => t.topicPublishStatements(["*"], KEY), /not a topic ARN/);
        });

        describe("with two error addresses", () => {
            before(async () => {
                resetRecorded();
                new t.NotificationTopics("n", { ...args, errorEmails: ["oncall@example.com", "claims-team@example.org"] });
                await waitForRegistrations();
            });

            it("creates both topics encrypted with the key", () => {
                for (const [role, name] of [["processing", "claims-processing"], ["errors", "claims-errors"]]) {
                    const topic = named(`n-${role}`, "aws:sns/topic:Topic");
                    assert.equal(topic.inputs.name, name);
                    assert.equal(topic.inputs.kmsMasterKeyId, KEY);
                    const [deny] = statementsOf(named(`n-${role}-policy`).inputs.policy);
                    assert.deepEqual([deny.Effect, deny.Resource, (deny.Condition as any).Bool], ["Deny", topicArn(name), { "aws:SecureTransport": "false" }]);
                }
            });

            it("subscribes the addresses to the error topic only, by email", () => {
                const subs = ofType("aws:sns/topicSubscription:TopicSubscription");
                assert.deepEqual(
                    subs.map((s) => [s.name, s.inputs.protocol, s.inputs.endpoint, s.inputs.topic]).sort(),
                    [
                        ["n-errors-email-claims-team-example-org", "email", "claims-team@example.org", topicArn("claims-errors")],
                        ["n-errors-email-oncall-example-com", "email", "oncall@example.com", topicArn("claims-errors")],
                    ],
                );
            });
        });
    });

    describe("ClaimsPipeline", () => {
        const baseArgs: p.ClaimsPipelineArgs = {
            stage: "test",
            accountId: ACCOUNT,
            kmsKeyArn: KEY,
            glueEnvironment: ENV,
            assetsBucket: ASSETS,
            metadataTable: TABLE,
            errorEmails: ["oncall@example.com"],
            minQualityScore: 97.5,
            jobArguments: { "--release_id": "abc123" },
        };

        it("rejects a quality minimum outside 0-100 or finer than 0.01, and a timeout too short to validate", () => {
            assert.throws(() => p.validateClaimsPipelineArgs({ minQualityScore: 101 }), /minQualityScore/);
            assert.throws(() => p.validateClaimsPipelineArgs({ minQualityScore: 95.555 }), /minQualityScore/);
            assert.throws(() => p.validateClaimsPipelineArgs({ validationTimeoutSeconds: 60 }), /validationTimeoutSeconds/);
            assert.doesNotThrow(() => p.validateClaimsPipelineArgs({ minQualityScore: 0 }));
        });

        describe("in a stack", () => {
            let validationStatements: PolicyStatement[];
            let jobStatements: PolicyStatement[];

            before(async () => {
                resetRecorded();
                new p.ClaimsPipeline("claims", baseArgs);
                await waitForRegistrations();
                validationStatements = statementsOf(named("claims-validation-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
                jobStatements = statementsOf(named("claims-etl-policy", "aws:iam/rolePolicy:RolePolicy").inputs.policy);
            });

            it("names the job, the function and the topics after the claims flow's pattern", () => {
                assert.equal(named("claims-etl-job", "aws:glue/job:Job").inputs.name, "healthcare-claims-test-etl");
                assert.equal(named("claims-validation-function", "aws:lambda/function:Function").inputs.name, "healthcare-claims-test-data-validation");
                assert.equal(named("claims-topics-processing", "aws:sns/topic:Topic").inputs.name, "healthcare-claims-test-processing");
                assert.equal(named("claims-topics-errors", "aws:sns/topic:Topic").inputs.name, "healthcare-claims-test-errors");
                assert.equal(named("claims-storage-data", "aws:s3/bucket:Bucket").inputs.bucket, BUCKET);
            });

            it("ships the claims script and passes the job its topics, table and release", () => {
                const job = named("claims-etl-job", "aws:glue/job:Job").inputs;
                assert.match(job.command.scriptLocation, /\/scripts\/healthcare-claims-test-etl\/[0-9a-f]{12}\/healthcare_claims_etl\.py$/);
                assert.equal(job.defaultArguments["--processing_topic_arn"], topicArn("healthcare-claims-test-processing"));
                assert.equal(job.defaultArguments["--error_topic_arn"], topicArn("healthcare-claims-test-errors"));
                assert.equal(job.defaultArguments["--metadata_table"], TABLE.name);
                assert.equal(job.defaultArguments["--release_id"], "abc123");
                assert.equal(job.jobRunQueuingEnabled, true);
                assert.equal(job.maxRetries, 0);
            });

            it("lets the job read raw claims and write only processed/, quarantine/records/ and temp/", () => {
                assert.deepEqual(s3Resources(jobStatements, "s3:GetObject").filter((r) => r.startsWith(BUCKET_ARN)).sort(), [
                    `${BUCKET_ARN}/processed/*`,
                    `${BUCKET_ARN}/quarantine/records/*`,
                    `${BUCKET_ARN}/raw/claims/*`,
                    `${BUCKET_ARN}/temp/*`,
                ]);
                assert.deepEqual(s3Resources(jobStatements, "s3:PutObject").filter((r) => r.startsWith(BUCKET_ARN)).sort(), [
                    `${BUCKET_ARN}/processed/*`,
                    `${BUCKET_ARN}/quarantine/records/*`,
                    `${BUCKET_ARN}/temp/*`,
                ]);
                assert.deepEqual(bySid(jobStatements, "PublishJobStatus").Resource, [topicArn("healthcare-claims-test-processing"), topicArn("healthcare-claims-test-errors")]);
                assert.deepEqual(wildcardResourceViolations({ Version: "2012-10-17", Statement: jobStatements }), []);
            });

            it("lets the function read and remove raw claims, write reports and quarantined files, start this job only", () => {
                assert.deepEqual(s3Resources(validationStatements, "s3:GetObject"), [`${BUCKET_ARN}/raw/claims/*`]);
                assert.deepEqual(s3Resources(validationStatements, "s3:DeleteObject"), [`${BUCKET_ARN}/raw/claims/*`]);
                assert.deepEqual(s3Resources(validationStatements, "s3:PutObject").sort(), [`${BUCKET_ARN}/quarantine/files/*`, `${BUCKET_ARN}/validation-reports/*`]);
                assert.deepEqual(bySid(validationStatements, "ReadRawClaimsList").Condition, { StringLikeIfExists: { "s3:prefix": ["raw/claims/", "raw/claims/*"] } });
                assert.deepEqual(bySid(validationStatements, "StartClaimsJob"), {
                    Sid: "StartClaimsJob",
                    Effect: "Allow",
                    Action: ["glue:StartJobRun"],
                    Resource: [`arn:aws:glue:${REGION}:${ACCOUNT}:job/healthcare-claims-test-etl`],
                });
                assert.deepEqual(bySid(validationStatements, "TrackFiles").Resource, [TABLE.arn]);
                assert.deepEqual(bySid(validationStatements, "PublishNotifications").Resource, [topicArn("healthcare-claims-test-processing"), topicArn("healthcare-claims-test-errors")]);
                assert.deepEqual(wildcardResourceViolations({ Version: "2012-10-17", Statement: validationStatements }), []);
            });

            it("configures the function for whole-file validation and fires it for raw/claims/*.csv only", () => {
                const fn = named("claims-validation-function", "aws:lambda/function:Function").inputs;
                // No reservation unless the stack opts in: a new account's quota cannot grant one.
                assert.deepEqual([fn.timeout, fn.memorySize, fn.reservedConcurrentExecutions], [900, 1769, undefined]);
                // The names are the function's contract (functions/claims-validation/contract.ts); the values are the wiring.
                assert.deepEqual(Object.keys(fn.environment.variables).filter((k) => !Object.values(CLAIMS_VALIDATION_ENV).includes(k as never)), []);
                assert.deepEqual(fn.environment.variables, {
                    GLUE_JOB_NAME: "healthcare-claims-test-etl",
                    METADATA_TABLE: TABLE.name,
                    DATA_BUCKET: BUCKET,
                    RAW_PREFIX: "raw/claims/",
                    PROCESSING_TOPIC_ARN: topicArn("healthcare-claims-test-processing"),
                    ERROR_TOPIC_ARN: topicArn("healthcare-claims-test-errors"),
                    MIN_QUALITY_SCORE: "97.5",
                    CLAIM_LEASE_SECONDS: "960",
                    QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${QUEUE}`,
                });
                const notification = named("claims-validation-notification", "aws:s3/bucketNotification:BucketNotification");
                assert.equal(notification.inputs.bucket, BUCKET);
                assert.equal(notification.inputs.lambdaFunctions, undefined, "S3 no longer invokes the function");
                assert.deepEqual(
                    notification.inputs.queues.map((q: any) => [q.filterPrefix, q.filterSuffix, q.events, q.queueArn]),
                    [["raw/claims/", ".csv", ["s3:ObjectCreated:*"], QUEUE_ARN]],
                );
                assert.ok(notification.dependencies.includes(named("claims-validation-queue-policy").urn));
            });

            it("feeds the validation from its own queue, one file per batch (whole-file validation takes up to 900 s)", () => {
                const mapping = named("claims-validation-queue-events", "aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
                assert.equal(mapping.eventSourceArn, QUEUE_ARN);
                assert.equal(mapping.batchSize, 1);
                assert.deepEqual(mapping.functionResponseTypes, ["ReportBatchItemFailures"]);
                assert.deepEqual(mapping.scalingConfig, { maximumConcurrency: 2 });
                const queue = named("claims-validation-queue", "aws:sqs/queue:Queue").inputs;
                assert.equal(queue.name, QUEUE);
                assert.equal(queue.sqsManagedSseEnabled, true);
                // AWS's recommendation for an event source mapping: 6 x the function's 900 s timeout.
                assert.equal(queue.visibilityTimeoutSeconds, 5400);
                assert.deepEqual(JSON.parse(queue.redrivePolicy), { deadLetterTargetArn: `${QUEUE_ARN}-dlq`, maxReceiveCount: 5 });
                const allow = statementsOf(named("claims-validation-queue-policy").inputs.policy).find((s) => s.Effect === "Allow");
                assert.deepEqual(allow?.Principal, { Service: "s3.amazonaws.com" });
                assert.deepEqual(allow?.Condition, { ArnEquals: { "aws:SourceArn": BUCKET_ARN }, StringEquals: { "aws:SourceAccount": ACCOUNT } });
                const sqs = statementsOf(named("claims-validation-policy").inputs.policy).filter((s) => asList(s.Action).some((a) => a.startsWith("sqs:")));
                assert.deepEqual(sqs.map((s) => asList(s.Resource)), [[`arn:aws:sqs:${REGION}:${ACCOUNT}:healthcare-claims-test-data-validation-dlq`], [QUEUE_ARN]]);
            });

            it("subscribes the configured address to the error topic", () => {
                const [sub] = ofType("aws:sns/topicSubscription:TopicSubscription");
                assert.deepEqual([sub.inputs.endpoint, sub.inputs.topic], ["oncall@example.com", topicArn("healthcare-claims-test-errors")]);
            });
        });

        it("on Flex, turns job queuing off (Glue does not queue Flex runs)", async () => {
            resetRecorded();
            new p.ClaimsPipeline("flex", { ...baseArgs, executionClass: "FLEX" });
            await waitForRegistrations();
            const job = named("flex-etl-job", "aws:glue/job:Job").inputs;
            assert.deepEqual([job.executionClass, job.jobRunQueuingEnabled], ["FLEX", false]);
        });
    });
});
