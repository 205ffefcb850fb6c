/**
 * HardenedBucket under Pulumi mocks: the one place a bucket gets its protections (encryption, public access
 * block, ownership, TLS-only policy, versioning, lifecycle, access logging), and the alias that lets an
 * existing stack adopt resources built before the primitive existed.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { HardenedBucket as HardenedBucketType } from "../../components/storage/hardenedBucket";
import { descendantsOf, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

let m: typeof import("../../components/storage/hardenedBucket");

const ACCOUNT = "111111111111";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/data-lake`;
const BUCKET = "aws:s3/bucket:Bucket";
const RULES = [{ id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }];

class Holder extends pulumi.ComponentResource {
    constructor(name: string) {
        super("test:index:Holder", name, {}, {});
    }
}

describe("HardenedBucket", () => {
    before(async () => {
        m = await import("../../components/storage/hardenedBucket");
    });

    describe("with a key, a log destination and extra statements", () => {
        let data: HardenedBucketType;
        let logs: HardenedBucketType;
        before(async () => {
            resetRecorded();
            logs = new m.HardenedBucket("logs", {
                bucketName: "my-logs",
                versioning: false,
                lifecycleRules: RULES,
                policyStatements: (arn) => arn.apply((a) => [m.accessLogDeliveryStatement(a, ACCOUNT, [{ bucketArn: "arn:aws:s3:::my-data", prefix: "data/" }])]),
            });
            data = new m.HardenedBucket("data", {
                bucketName: "my-data",
                kmsKeyArn: KEY,
                lifecycleRules: RULES,
                policyStatements: (arn) => arn.apply((a) => [m.denyNonKmsUploadStatement(a)]),
                accessLogs: { bucket: logs, prefix: "data/" },
            });
            await waitForRegistrations();
        });

        it("encrypts with the key and bucket keys; the log bucket with SSE-S3", () => {
            assert.deepEqual(named("data-sse").inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true }]);
            assert.deepEqual(named("logs-sse").inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
        });

        it("blocks all public access and disables ACLs", () => {
            for (const b of ["data", "logs"]) {
                const pab = named(`${b}-public-access`).inputs;
                assert.deepEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true], b);
                assert.deepEqual(named(`${b}-ownership`).inputs.rule, { objectOwnership: "BucketOwnerEnforced" }, b);
            }
        });

        it("denies requests without TLS or below TLS 1.2, then adds the caller's statements; after the public access block", () => {
            const arn = "arn:aws:s3:::my-data";
            const statements = statementsOf(named("data-policy").inputs.policy);
            assert.deepEqual(statements.map((s) => s.Sid), ["DenyInsecureTransport", "DenyOutdatedTls", "DenyNonKmsEncryption"]);
            assert.deepEqual(statements[0].Resource, [arn, `${arn}/*`]);
            assert.deepEqual(statements[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
            assert.deepEqual(statements[1].Condition, { NumericLessThan: { "s3:TlsVersion": 1.2 } });
            assert.ok(named("data-policy").dependencies.includes(named("data-public-access").urn));
            const logStatements = statementsOf(named("logs-policy").inputs.policy);
            assert.deepEqual(logStatements.map((s) => s.Sid), ["DenyInsecureTransport", "DenyOutdatedTls", "S3ServerAccessLogsDelivery"]);
        });

        it("versions by default, applies the lifecycle after versioning; an unversioned bucket has no versioning", () => {
            assert.deepEqual(named("data-versioning").inputs.versioningConfiguration, { status: "Enabled" });
            assert.ok(named("data-lifecycle").dependencies.includes(named("data-versioning").urn));
            assert.deepEqual(named("data-lifecycle").inputs.rules, RULES);
            assert.deepEqual(ofType("aws:s3/bucketVersioning:BucketVersioning").map((r) => r.name), ["data-versioning"]);
            assert.equal(logs.versioning, undefined);
        });

        it("logs access to the destination under its prefix, after the destination's grant and ownership", () => {
            const logging = named("data-logging");
            assert.equal(logging.inputs.targetBucket, "my-logs");
            assert.equal(logging.inputs.targetPrefix, "data/");
            assert.ok(logging.dependencies.includes(named("logs-policy").urn));
            assert.ok(logging.dependencies.includes(named("logs-ownership").urn));
            assert.equal(logs.logging, undefined);
        });

        it("keeps the bucket and its protections on destroy, without forceDestroy", () => {
            assert.equal(named("data", BUCKET).inputs.forceDestroy, false);
            for (const r of descendantsOf(named("data", "glue-pipeline:storage:HardenedBucket"))) assert.equal(r.retainOnDelete, true, r.name);
        });

        it("names every child after the component and exposes the bucket", async () => {
            const children = descendantsOf(named("data", "glue-pipeline:storage:HardenedBucket")).map((r) => r.name).sort();
            assert.deepEqual(children, ["data", "data-lifecycle", "data-logging", "data-ownership", "data-policy", "data-public-access", "data-sse", "data-versioning"]);
            assert.equal(await new Promise((resolve) => data.bucketName.apply(resolve)), "my-data");
        });
    });

    describe("with a former parent and deletion allowed", () => {
        before(async () => {
            resetRecorded();
            const holder = new Holder("old");
            new m.HardenedBucket("old-b", { bucketName: "b", lifecycleRules: RULES, allowDestroy: true, formerParent: holder }, { parent: holder });
            await waitForRegistrations();
        });

        it("aliases every child to the former parent, so an existing stack adopts it", () => {
            const holder = named("old", "test:index:Holder");
            const children = descendantsOf(named("old-b", "glue-pipeline:storage:HardenedBucket"));
            assert.equal(children.length, 7);
            for (const c of children) assert.ok(c.aliases.some((a) => a.parentUrn === holder.urn && a.name === undefined), c.name);
        });

        it("lets destroy remove the bucket", () => {
            assert.equal(named("old-b", BUCKET).inputs.forceDestroy, true);
            assert.equal(named("old-b", BUCKET).retainOnDelete, false);
        });
    });

    it("rejects a TLS version outside 1.0-1.3 and an empty lifecycle", () => {
        assert.throws(() => new m.HardenedBucket("bad-tls", { bucketName: "x", lifecycleRules: RULES, minimumTlsVersion: 2 }), /minimumTlsVersion/);
        assert.throws(() => new m.HardenedBucket("bad-rules", { bucketName: "x", lifecycleRules: [] }), /lifecycleRules is empty/);
    });
});
