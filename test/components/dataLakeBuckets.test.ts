import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { BucketNames, DataLakeBuckets, DataLakeBucketsArgs, LifecycleSpec, LifecycleTransition } from "../../components/storage/dataLakeBuckets";
import type { PolicyStatement } from "../../components/iam/iamPolicies";
import { RecordedResource, asList, descendantsOf, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

// Loaded in before(), after the --require'd mocks, as the house convention asks.
let m: typeof import("../../components/storage/dataLakeBuckets");

/** The requirements' claims retention, written out here so the exported constant is checked against the requirements. */
const CLAIMS: readonly LifecycleTransition[] = [
    { days: 30, storageClass: "STANDARD_IA" },
    { days: 90, storageClass: "GLACIER" },
    { days: 365, storageClass: "DEEP_ARCHIVE" },
];

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const BUCKET = "aws:s3/bucket:Bucket";
const HARDENED = "glue-pipeline:storage:HardenedBucket";
const ROLES = ["input", "output", "assets"] as const;
const ALL_BUCKETS = [...ROLES, "access-logs"] as const;


async function build(name: string, args: Partial<DataLakeBucketsArgs> = {}): Promise<DataLakeBuckets> {
    resetRecorded();
    const component = new m.DataLakeBuckets(name, { stage: "dev", accountId: ACCOUNT, ...args });
    await waitForRegistrations();
    return component;
}

const output = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));
const inputsOf = (name: string, type?: string) => named(name, type).inputs;
const byId = (rules: any[]) => Object.fromEntries(rules.map((r) => [r.id, r]));
const sid = (statements: PolicyStatement[], id: string) => {
    const hit = statements.find((s) => s.Sid === id);
    assert.ok(hit, `statement ${id} missing in ${JSON.stringify(statements)}`);
    return hit;
};

describe("DataLakeBuckets", () => {
    before(async () => {
        m = await import("../../components/storage/dataLakeBuckets");
    });

    it("exports the requirements' claims archive transitions", () => assert.deepEqual(m.CLAIMS_ARCHIVE_TRANSITIONS, CLAIMS));

    describe("with defaults", () => {
        let component: DataLakeBuckets;
        const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/d-key-key-id`;
        before(async () => {
            component = await build("d");
        });

        it("names the buckets as the requirements do", () => {
            assert.equal(inputsOf("d-input", BUCKET).bucket, `glue-input-dev-${ACCOUNT}`);
            assert.equal(inputsOf("d-output", BUCKET).bucket, `glue-output-dev-${ACCOUNT}`);
            assert.equal(inputsOf("d-assets", BUCKET).bucket, `glue-assets-v2-dev-${ACCOUNT}`);
            assert.equal(inputsOf("d-access-logs", BUCKET).bucket, `glue-access-logs-dev-${ACCOUNT}`);
            assert.equal(ofType(BUCKET).length, 4);
        });

        it("exposes the buckets, the key and the names", async () => {
            assert.equal(await output(component.inputBucket.bucket), `glue-input-dev-${ACCOUNT}`);
            assert.equal(await output(component.kmsKeyArn), keyArn);
            assert.deepEqual(await output(component.bucketNames), m.bucketNames("dev", ACCOUNT));
            assert.ok(component.kmsKey);
        });

        it("keeps data on delete: retainOnDelete on buckets, their protections and the key; no forceDestroy", () => {
            for (const b of ALL_BUCKETS) {
                assert.equal(inputsOf(`d-${b}`, BUCKET).forceDestroy, false, b);
                assert.equal(named(`d-${b}`, BUCKET).retainOnDelete, true, `d-${b}`);
                for (const part of ["-sse", "-policy", "-public-access", "-ownership", "-lifecycle"]) {
                    assert.equal(named(`d-${b}${part}`).retainOnDelete, true, `d-${b}${part}`);
                }
            }
            assert.equal(named("d-key").retainOnDelete, true);
        });

        it("creates a key with rotation, a 30-day deletion window and an alias", () => {
            const key = inputsOf("d-key", "aws:kms/key:Key");
            assert.equal(key.enableKeyRotation, true);
            assert.equal(key.deletionWindowInDays, 30);
            assert.equal(inputsOf("d-key-alias").name, "alias/glue-data-lake-dev");
        });

        it("key policy: the account administers and delegates use; CloudWatch Logs only for this account's log groups", () => {
            const statements = statementsOf(inputsOf("d-key", "aws:kms/key:Key").policy);
            assert.deepEqual(statements.map((s) => s.Sid), ["AccountAdministersKey", "AccountDelegatesUseToIam", "CloudWatchLogsEncryptsAccountLogGroups"]);
            const root = { AWS: `arn:aws:iam::${ACCOUNT}:root` };
            const admin = sid(statements, "AccountAdministersKey");
            assert.deepEqual(admin.Principal, root);
            assert.ok(!asList(admin.Action).includes("kms:*"), "no kms:* for anyone");
            assert.ok(!asList(admin.Action).some((a) => /Decrypt|Encrypt|GenerateDataKey/.test(a)), "admin statement grants no cryptographic use");
            const use = sid(statements, "AccountDelegatesUseToIam");
            assert.deepEqual(use.Principal, root);
            assert.deepEqual(use.Action, ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]);
            const logs = sid(statements, "CloudWatchLogsEncryptsAccountLogGroups");
            assert.deepEqual(logs.Principal, { Service: `logs.${REGION}.amazonaws.com` });
            assert.deepEqual(logs.Condition, {
                ArnLike: {
                    "kms:EncryptionContext:aws:logs:arn": [
                        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/*`,
                        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/*`,
                    ],
                },
            });
            for (const s of statements) assert.equal(s.Effect, "Allow");
        });

        it("encrypts every data bucket with the key and bucket keys; the log bucket with SSE-S3", () => {
            for (const role of ROLES) {
                const [rule] = inputsOf(`d-${role}-sse`).rules;
                assert.deepEqual(rule.applyServerSideEncryptionByDefault, { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, role);
                assert.equal(rule.bucketKeyEnabled, true, role);
                assert.equal(inputsOf(`d-${role}-sse`).bucket, inputsOf(`d-${role}`, BUCKET).bucket);
            }
            assert.deepEqual(inputsOf("d-access-logs-sse").rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
        });

        it("versions the three data buckets (assets too, for script history), not the log bucket", () => {
            for (const role of ROLES) assert.deepEqual(inputsOf(`d-${role}-versioning`).versioningConfiguration, { status: "Enabled" });
            assert.deepEqual(ofType("aws:s3/bucketVersioning:BucketVersioning").map((r) => r.name).sort(), ["d-assets-versioning", "d-input-versioning", "d-output-versioning"]);
        });

        const lifecycleCases: [string, number | undefined, number | undefined][] = [
            ["input", 30, 30],
            ["output", 90, 30],
            ["assets", undefined, 90],
            ["access-logs", 90, undefined],
        ];
        for (const [bucket, current, noncurrent] of lifecycleCases) {
            it(`lifecycle of ${bucket}: current ${current ?? "kept"}, noncurrent ${noncurrent ?? "n/a"}, uploads aborted after 7 days`, () => {
                const rules = byId(inputsOf(`d-${bucket}-lifecycle`).rules);
                assert.deepEqual(rules["abort-incomplete-multipart-uploads"].abortIncompleteMultipartUpload, { daysAfterInitiation: 7 });
                assert.equal(rules["expire-current-objects"]?.expiration.days, current);
                if (current !== undefined) assert.deepEqual(rules["expire-current-objects"].filter, { prefix: "" });
                assert.equal(rules["expire-noncurrent-versions"]?.noncurrentVersionExpiration.noncurrentDays, noncurrent);
                for (const r of Object.values(rules) as any[]) assert.equal(r.status, "Enabled");
            });
        }

        it("applies lifecycle only after versioning is on", () => {
            for (const role of ROLES) {
                assert.ok(named(`d-${role}-lifecycle`).dependencies.includes(named(`d-${role}-versioning`).urn), role);
            }
        });

        it("denies non-TLS and TLS < 1.2 on every bucket and its objects", () => {
            for (const b of ALL_BUCKETS) {
                const arn = `arn:aws:s3:::${inputsOf(`d-${b}`, BUCKET).bucket}`;
                const statements = statementsOf(inputsOf(`d-${b}-policy`).policy);
                const insecure = sid(statements, "DenyInsecureTransport");
                assert.equal(insecure.Effect, "Deny");
                assert.equal(insecure.Principal, "*");
                assert.equal(insecure.Action, "s3:*");
                assert.deepEqual(insecure.Resource, [arn, `${arn}/*`]);
                assert.deepEqual(insecure.Condition, { Bool: { "aws:SecureTransport": "false" } });
                const tls = sid(statements, "DenyOutdatedTls");
                assert.deepEqual(tls.Resource, [arn, `${arn}/*`]);
                assert.deepEqual(tls.Condition, { NumericLessThan: { "s3:TlsVersion": 1.2 } });
            }
        });

        it("data-bucket policies allow nothing", () => {
            for (const role of ROLES) {
                assert.deepEqual(statementsOf(inputsOf(`d-${role}-policy`).policy).filter((s) => s.Effect === "Allow"), [], role);
            }
        });

        it("the log bucket accepts S3 log delivery only under each source's prefix, from our buckets and account", () => {
            const logArn = `arn:aws:s3:::glue-access-logs-dev-${ACCOUNT}`;
            const delivery = sid(statementsOf(inputsOf("d-access-logs-policy").policy), "S3ServerAccessLogsDelivery");
            assert.deepEqual(delivery.Principal, { Service: "logging.s3.amazonaws.com" });
            assert.equal(delivery.Action, "s3:PutObject");
            assert.deepEqual(delivery.Resource, [`${logArn}/input/*`, `${logArn}/output/*`, `${logArn}/assets/*`]);
            assert.deepEqual(delivery.Condition, {
                ArnLike: {
                    "aws:SourceArn": [`arn:aws:s3:::glue-input-dev-${ACCOUNT}`, `arn:aws:s3:::glue-output-dev-${ACCOUNT}`, `arn:aws:s3:::glue-assets-v2-dev-${ACCOUNT}`],
                },
                StringEquals: { "aws:SourceAccount": ACCOUNT },
            });
        });

        it("the log bucket's delivery policy waits for the data buckets it names (learned after the log bucket is built)", () => {
            const dependencies = named("d-access-logs-policy").dependencies;
            for (const role of ROLES) assert.ok(dependencies.includes(named(`d-${role}`, BUCKET).urn), role);
        });

        it("blocks all public access on every bucket", () => {
            assert.equal(ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").length, 4);
            for (const b of ALL_BUCKETS) {
                const block = inputsOf(`d-${b}-public-access`);
                for (const field of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block[field], true, `${b} ${field}`);
            }
        });

        it("disables ACLs (BucketOwnerEnforced) on every bucket", () => {
            for (const b of ALL_BUCKETS) assert.deepEqual(inputsOf(`d-${b}-ownership`).rule, { objectOwnership: "BucketOwnerEnforced" }, b);
        });

        it("puts bucket policies after the public access blocks", () => {
            for (const b of ALL_BUCKETS) assert.ok(named(`d-${b}-policy`).dependencies.includes(named(`d-${b}-public-access`).urn), b);
        });

        it("logs data-bucket access to the log bucket under a per-bucket, date-partitioned prefix", () => {
            assert.equal(ofType("aws:s3/bucketLogging:BucketLogging").length, 3);
            for (const role of ROLES) {
                const logging = named(`d-${role}-logging`);
                assert.equal(logging.inputs.bucket, inputsOf(`d-${role}`, BUCKET).bucket);
                assert.equal(logging.inputs.targetBucket, `glue-access-logs-dev-${ACCOUNT}`);
                assert.equal(logging.inputs.targetPrefix, `${role}/`);
                assert.deepEqual(logging.inputs.targetObjectKeyFormat, { partitionedPrefix: { partitionDateSource: "EventTime" } });
                assert.ok(logging.dependencies.includes(named("d-access-logs-policy").urn), `${role} logging waits for the delivery policy`);
            }
        });

        it("parents every child to the component, each bucket's resources through its HardenedBucket", () => {
            const root: RecordedResource = named("d", "glue-pipeline:storage:DataLakeBuckets");
            const children = descendantsOf(root);
            assert.equal(children.length, 4 + 4 * 6 + 3 * 2 + 2, children.map((c) => c.name).join(", "));
            for (const c of children) assert.ok(c.name.startsWith("d-"), c.name);
            for (const b of ALL_BUCKETS) {
                const hardened = named(`d-${b}`, HARDENED);
                assert.equal(hardened.parent, root.urn, b);
                const parts = descendantsOf(hardened);
                assert.equal(parts.length, b === "access-logs" ? 6 : 8, `${b}: ${parts.map((p) => p.name).join(", ")}`);
                for (const part of parts) {
                    assert.equal(part.parent, hardened.urn, part.name);
                    // An existing stack knew these directly under the component: the alias adopts them.
                    assert.ok(part.aliases.some((a) => a.parentUrn === root.urn && a.name === undefined && a.type === undefined), part.name);
                }
            }
        });
    });

    describe("with deletion allowed", () => {
        before(() => build("x", { allowDestroy: true }));
        it("force-destroys buckets and does not retain them or the key", () => {
            for (const b of ALL_BUCKETS) {
                assert.equal(inputsOf(`x-${b}`, BUCKET).forceDestroy, true, b);
                assert.equal(named(`x-${b}`, BUCKET).retainOnDelete, false, b);
            }
            assert.equal(named("x-key").retainOnDelete, false);
        });
    });

    describe("with an existing key", () => {
        const given = `arn:aws:kms:${REGION}:${ACCOUNT}:key/existing`;
        let component: DataLakeBuckets;
        before(async () => {
            component = await build("k", { kmsKeyArn: given });
        });
        it("creates no key and encrypts with the given one", async () => {
            assert.equal(ofType("aws:kms/key:Key").length, 0);
            assert.equal(ofType("aws:kms/alias:Alias").length, 0);
            assert.equal(component.kmsKey, undefined);
            assert.equal(await output(component.kmsKeyArn), given);
            for (const role of ROLES) assert.equal(inputsOf(`k-${role}-sse`).rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, given);
        });
    });

    describe("with the account ID as an output (the caller identity's)", () => {
        before(() => build("o", { accountId: pulumi.output("222222222222") }));
        it("names the buckets after it", () => {
            assert.equal(inputsOf("o-input", BUCKET).bucket, "glue-input-dev-222222222222");
            assert.equal(inputsOf("o-access-logs", BUCKET).bucket, "glue-access-logs-dev-222222222222");
        });
    });

    describe("with overrides (the requirements' claims archive, prod retention)", () => {
        const extra: PolicyStatement = {
            Sid: "ProdReadsAssets",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::333333333333:root" },
            Action: "s3:GetObject",
            Resource: `arn:aws:s3:::glue-assets-v2-prod-${ACCOUNT}/scripts/*`,
        };
        before(() =>
            build("p", {
                stage: "prod",
                input: {
                    expirationDays: 45,
                    expirationPrefixes: ["uploads/"],
                    noncurrentVersionExpirationDays: 7,
                    prefixRules: [{ id: "archive-claims", prefix: "claims", transitions: CLAIMS }],
                },
                output: { expirationDays: null },
                assets: { policyStatements: [extra] },
                abortIncompleteMultipartUploadDays: 3,
                accessLogRetentionDays: 365,
                minimumTlsVersion: 1.3,
                logGroupNamePatterns: ["/aws-glue/*"],
            }),
        );

        it("expires only the named prefixes and archives claims forever", () => {
            const rules = byId(inputsOf("p-input-lifecycle").rules);
            assert.deepEqual(rules["expire-current-objects-uploads"].filter, { prefix: "uploads/" });
            assert.equal(rules["expire-current-objects-uploads"].expiration.days, 45);
            assert.equal(rules["expire-current-objects"], undefined);
            assert.equal(rules["expire-noncurrent-versions"].noncurrentVersionExpiration.noncurrentDays, 7);
            assert.deepEqual(rules["abort-incomplete-multipart-uploads"].abortIncompleteMultipartUpload, { daysAfterInitiation: 3 });
            const claims = rules["archive-claims"];
            assert.deepEqual(claims.filter, { prefix: "claims/" });
            assert.deepEqual(claims.transitions, [
                { days: 30, storageClass: "STANDARD_IA" },
                { days: 90, storageClass: "GLACIER" },
                { days: 365, storageClass: "DEEP_ARCHIVE" },
            ]);
            assert.equal(claims.expiration, undefined);
        });

        it("keeps output forever when expiration is null", () => {
            assert.equal(byId(inputsOf("p-output-lifecycle").rules)["expire-current-objects"], undefined);
        });

        it("applies access-log retention, the TLS minimum, extra bucket statements and log-group patterns", () => {
            assert.equal(byId(inputsOf("p-access-logs-lifecycle").rules)["expire-current-objects"].expiration.days, 365);
            const assets = statementsOf(inputsOf("p-assets-policy").policy);
            assert.deepEqual(sid(assets, "DenyOutdatedTls").Condition, { NumericLessThan: { "s3:TlsVersion": 1.3 } });
            assert.deepEqual(sid(assets, "ProdReadsAssets"), extra);
            const logs = sid(statementsOf(inputsOf("p-key").policy), "CloudWatchLogsEncryptsAccountLogGroups");
            assert.deepEqual(logs.Condition!.ArnLike["kms:EncryptionContext:aws:logs:arn"], [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/*`]);
        });
    });

    describe("argument validation", () => {
        const cases: [string, Partial<DataLakeBucketsArgs>, RegExp][] = [
            ["uppercase stage", { stage: "Dev" }, /stage "Dev" is invalid/],
            ["underscore in stage", { stage: "dev_1" }, /stage "dev_1" is invalid/],
            ["stage starting with a hyphen", { stage: "-dev" }, /stage "-dev" is invalid/],
            ["empty stage", { stage: "" }, /stage "" is invalid/],
            ["stage making a name longer than 63", { stage: "a".repeat(34) }, /too long; bucket name glue-access-logs-a{34}-000000000000 would be 64 characters/],
            ["account ID not 12 digits", { accountId: "12345" }, /accountId "12345" is not a 12-digit/],
            ["key-policy statements with an existing key", { kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/x", additionalKeyPolicyStatements: [] }, /additionalKeyPolicyStatements .* kmsKeyArn/],
            ["fractional expiration", { input: { expirationDays: 1.5 } }, /input: expirationDays must be a positive whole number/],
            ["zero noncurrent days", { output: { noncurrentVersionExpirationDays: 0 } }, /output: noncurrentVersionExpirationDays/],
            ["zero abort days", { abortIncompleteMultipartUploadDays: 0 }, /abortIncompleteMultipartUploadDays/],
            ["zero log retention", { accessLogRetentionDays: 0 }, /accessLogRetentionDays/],
            ["TLS 2", { minimumTlsVersion: 2 }, /minimumTlsVersion/],
            [
                "a never-delete prefix under the bucket-wide expiration",
                { input: { prefixRules: [{ id: "archive-claims", prefix: "claims/", transitions: CLAIMS }] } },
                /prefix rule "archive-claims" keeps "claims\/" forever, but expirationDays \(30\) applies to the whole bucket/,
            ],
        ];
        for (const [title, args, message] of cases) {
            it(`rejects ${title}`, () => {
                resetRecorded();
                assert.throws(() => new m.DataLakeBuckets(`bad-${title.replace(/\W+/g, "-")}`, { stage: "dev", accountId: ACCOUNT, ...args }), message);
            });
        }
        it("accepts the longest stage that fits", () => assert.doesNotThrow(() => m.validateStage("a".repeat(33))));
    });

    describe("pure helpers", () => {
        describe("bucketNames", () => {
            const cases: [string, string, BucketNames][] = [
                ["dev", ACCOUNT, { input: `glue-input-dev-${ACCOUNT}`, output: `glue-output-dev-${ACCOUNT}`, assets: `glue-assets-v2-dev-${ACCOUNT}`, accessLogs: `glue-access-logs-dev-${ACCOUNT}` }],
                ["prod", "999999999999", { input: "glue-input-prod-999999999999", output: "glue-output-prod-999999999999", assets: "glue-assets-v2-prod-999999999999", accessLogs: "glue-access-logs-prod-999999999999" }],
                ["pr-42", ACCOUNT, { input: `glue-input-pr-42-${ACCOUNT}`, output: `glue-output-pr-42-${ACCOUNT}`, assets: `glue-assets-v2-pr-42-${ACCOUNT}`, accessLogs: `glue-access-logs-pr-42-${ACCOUNT}` }],
            ];
            for (const [stage, account, expected] of cases) it(`${stage} / ${account}`, () => assert.deepEqual(m.bucketNames(stage, account), expected));
            it("rejects an invalid stage or account", () => {
                assert.throws(() => m.bucketNames("dev.1", ACCOUNT), /stage/);
                assert.throws(() => m.bucketNames("dev", "abc"), /accountId/);
            });
        });

        describe("lifecycleRules", () => {
            const base: LifecycleSpec = { expirationDays: 30, expirationPrefixes: [""], noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7, prefixRules: [] };
            const cases: [string, Partial<LifecycleSpec>, string[]][] = [
                ["defaults", {}, ["abort-incomplete-multipart-uploads", "expire-current-objects", "expire-noncurrent-versions", "remove-expired-delete-markers"]],
                ["no expiration", { expirationDays: null }, ["abort-incomplete-multipart-uploads", "expire-noncurrent-versions", "remove-expired-delete-markers"]],
                ["unversioned (no noncurrent rule)", { noncurrentVersionExpirationDays: null }, ["abort-incomplete-multipart-uploads", "expire-current-objects"]],
                ["two expiring prefixes", { expirationPrefixes: ["raw", "tmp/x"] }, ["abort-incomplete-multipart-uploads", "expire-current-objects-raw", "expire-current-objects-tmp-x", "expire-noncurrent-versions", "remove-expired-delete-markers"]],
                [
                    "a prefix rule with its own expiration may overlap the bucket-wide one",
                    { prefixRules: [{ id: "tmp", prefix: "tmp/", expirationDays: 1 }] },
                    ["abort-incomplete-multipart-uploads", "expire-current-objects", "expire-noncurrent-versions", "remove-expired-delete-markers", "tmp"],
                ],
            ];
            for (const [title, spec, ids] of cases) {
                it(title, () => assert.deepEqual(m.lifecycleRules({ ...base, ...spec }).map((r) => r.id), ids));
            }
            it("never combines ExpiredObjectDeleteMarker with Days in one rule", () => {
                for (const r of m.lifecycleRules(base) as any[]) assert.ok(!(r.expiration?.expiredObjectDeleteMarker && r.expiration?.days), r.id);
            });
            const errors: [string, Partial<LifecycleSpec>, RegExp][] = [
                ["IA before 30 days", { expirationDays: null, prefixRules: [{ id: "a", prefix: "a", transitions: [{ days: 10, storageClass: "STANDARD_IA" }] }] }, /at least 30 days before a STANDARD_IA/],
                ["transitions out of order", { expirationDays: null, prefixRules: [{ id: "a", prefix: "a", transitions: [{ days: 90, storageClass: "GLACIER" }, { days: 60, storageClass: "GLACIER_IR" }] }] }, /increasing days/],
                ["expiration before the last transition", { expirationDays: null, prefixRules: [{ id: "a", prefix: "a", transitions: [{ days: 90, storageClass: "GLACIER" }], expirationDays: 60 }] }, /after the last transition/],
                ["a rule that does nothing", { expirationDays: null, prefixRules: [{ id: "a", prefix: "a" }] }, /neither transitions nor expirationDays/],
                ["a duplicate id", { prefixRules: [{ id: "expire-current-objects", prefix: "a", expirationDays: 3 }] }, /already used/],
                ["a bad id", { prefixRules: [{ id: "has space", prefix: "a", expirationDays: 3 }] }, /id must be/],
                ["never-delete under an expiring parent prefix", { expirationPrefixes: ["data/"], prefixRules: [{ id: "keep", prefix: "data/claims", transitions: CLAIMS }] }, /applies to "data\/"/],
                ["expiration with no prefixes", { expirationPrefixes: [] }, /expirationPrefixes is empty/],
            ];
            for (const [title, spec, message] of errors) it(`rejects ${title}`, () => assert.throws(() => m.lifecycleRules({ ...base, ...spec }), message));
            it("allows a never-delete prefix outside the expiring ones", () => {
                const rules = m.lifecycleRules({ ...base, expirationPrefixes: ["uploads/"], prefixRules: [{ id: "keep", prefix: "claims", transitions: CLAIMS }] });
                assert.equal(rules.at(-1)!.id, "keep");
            });
        });

        describe("dataLakeKeyPolicy", () => {
            const cases: [string, string, string][] = [
                ["aws", "eu-west-1", "arn:aws:iam::111111111111:root"],
                ["aws-cn", "cn-north-1", "arn:aws-cn:iam::111111111111:root"],
                ["aws-us-gov", "us-gov-west-1", "arn:aws-us-gov:iam::111111111111:root"],
            ];
            for (const [partition, region, root] of cases) {
                it(`${partition} ${region}`, () => {
                    const doc = m.dataLakeKeyPolicy({ accountId: ACCOUNT, region, partition });
                    assert.deepEqual(doc.Statement[0].Principal, { AWS: root });
                    assert.deepEqual(doc.Statement[2].Principal, { Service: `logs.${region}.amazonaws.com` });
                    for (const arn of asList(doc.Statement[2].Condition!.ArnLike["kms:EncryptionContext:aws:logs:arn"] as string[])) {
                        assert.ok(arn.startsWith(`arn:${partition}:logs:${region}:${ACCOUNT}:log-group:`), arn);
                    }
                });
            }
            it("appends extra statements and validates its inputs", () => {
                const extra: PolicyStatement = { Sid: "Sns", Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: ["kms:GenerateDataKey*"], Resource: "*" };
                assert.deepEqual(m.dataLakeKeyPolicy({ accountId: ACCOUNT, region: REGION, additionalStatements: [extra] }).Statement.at(-1), extra);
                assert.throws(() => m.dataLakeKeyPolicy({ accountId: ACCOUNT, region: "mars" }), /not an AWS region/);
                assert.throws(() => m.dataLakeKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroupNamePatterns: [] }), /logGroupNamePatterns is empty/);
            });
        });

        describe("accessLogBucketPolicy", () => {
            it("scopes delivery to the sources' prefixes and ARNs", () => {
                const doc = m.accessLogBucketPolicy("arn:aws:s3:::logs", ACCOUNT, [{ bucketArn: "arn:aws:s3:::a", prefix: "a" }]);
                const delivery = doc.Statement[2];
                assert.deepEqual(delivery.Resource, ["arn:aws:s3:::logs/a/*"]);
                assert.deepEqual(delivery.Condition, { ArnLike: { "aws:SourceArn": ["arn:aws:s3:::a"] }, StringEquals: { "aws:SourceAccount": ACCOUNT } });
            });
        });
    });
});
