/** AthenaWorkgroup under mocks: enforced, encrypted, cut off, with the named queries over gold and the analyst policy. */
import assert from "node:assert/strict";
import type { AthenaWorkgroupArgs } from "../../components/analytics/athenaWorkgroup";
import type { AthenaWorkgroup } from "../../components/analytics/athenaWorkgroup";
import { asList, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";
import { valueOf } from "../support/outputs";

let m: typeof import("../../components/analytics/athenaWorkgroup");
let policies: typeof import("../../components/iam/iamPolicies");

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`;
const BUCKET = `glue-output-dev-${ACCOUNT}`;
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const DATABASE_ARN = `arn:aws:glue:${REGION}:${ACCOUNT}:database/glue_database_v2_dev`;

function args(overrides: Partial<AthenaWorkgroupArgs> = {}): AthenaWorkgroupArgs {
    return {
        name: "medallion-dev",
        databaseName: "glue_database_v2_dev",
        databaseArn: DATABASE_ARN,
        resultsBucket: { bucket: BUCKET, arn: BUCKET_ARN },
        resultsPrefix: "athena-results/",
        kmsKeyArn: KEY,
        dataReadAccess: { bucketArn: BUCKET_ARN, prefixes: ["medallion/curated/"] },
        namedQueries: [],
        ...overrides,
    };
}

describe("AthenaWorkgroup", () => {
    before(async () => {
        m = await import("../../components/analytics/athenaWorkgroup");
        policies = await import("../../components/iam/iamPolicies");
    });

    describe("with the medallion queries", () => {
        let component: AthenaWorkgroup;
        before(async () => {
            resetRecorded();
            component = new m.AthenaWorkgroup("athena", args({ namedQueries: m.medallionNamedQueries("medallion_"), bytesScannedCutoffPerQuery: 100 * 1024 * 1024 }));
            await waitForRegistrations();
        });

        it("enforces its configuration: SSE-KMS results in their prefix, a bytes-scanned cutoff, metrics, engine v3", () => {
            const wg = named("athena-workgroup", "aws:athena/workgroup:Workgroup").inputs;
            assert.equal(wg.name, "medallion-dev");
            assert.equal(wg.forceDestroy, false);
            assert.deepEqual(wg.configuration, {
                enforceWorkgroupConfiguration: true,
                publishCloudwatchMetricsEnabled: true,
                bytesScannedCutoffPerQuery: 104857600,
                requesterPaysEnabled: false,
                engineVersion: { selectedEngineVersion: "Athena engine version 3" },
                resultConfiguration: {
                    outputLocation: `s3://${BUCKET}/athena-results/`,
                    encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY },
                    expectedBucketOwner: ACCOUNT,
                    aclConfiguration: { s3AclOption: "BUCKET_OWNER_FULL_CONTROL" },
                },
            });
        });

        it("saves the named queries over the gold tables, each pruning partitions", () => {
            const queries = ofType("aws:athena/namedQuery:NamedQuery").map((q) => q.inputs);
            assert.deepEqual(queries.map((q) => [q.name, q.workgroup, q.database]), [
                ["medallion-daily-revenue-last-7-days", "medallion-dev", "glue_database_v2_dev"],
                ["medallion-top-customers-this-month", "medallion-dev", "glue_database_v2_dev"],
            ]);
            assert.match(queries[0].query, /FROM medallion_daily_sales\nWHERE date\(concat\(year, '-', month, '-', day\)\)/);
            assert.match(queries[1].query, /FROM medallion_orders\nWHERE year = date_format\(current_date, '%Y'\) AND month = /);
        });

        it("gives analysts this workgroup, this database's catalog, gold and the results — nothing else (a document, not a managed policy)", async () => {
            assert.deepEqual(ofType("aws:iam/policy:Policy"), [], "the deploy role creates no managed policies");
            const statements = statementsOf(await valueOf(component.analystPolicyDocument));
            assert.deepEqual(statements.map((s) => [s.Sid, asList(s.Resource)]), [
                ["UseWorkgroup", [`arn:aws:athena:${REGION}:${ACCOUNT}:medallion-dev`]],
                ["ReadCatalog", [`arn:aws:glue:${REGION}:${ACCOUNT}:catalog`, DATABASE_ARN, `arn:aws:glue:${REGION}:${ACCOUNT}:table/glue_database_v2_dev/*`]],
                ["ReadDataList", [BUCKET_ARN]],
                ["ReadDataGet", [`${BUCKET_ARN}/medallion/curated/*`]],
                ["ResultsList", [BUCKET_ARN]],
                ["ResultsGet", [`${BUCKET_ARN}/athena-results/*`]],
                ["ResultsWrite", [`${BUCKET_ARN}/athena-results/*`]],
                ["ResultsBucketLocation", [BUCKET_ARN]],
                ["UseDataKey", [KEY]],
            ]);
            assert.deepEqual(policies.wildcardResourceViolations({ Version: "2012-10-17", Statement: statements }), []);
        });
    });

    it("defaults to a 1 GiB cutoff", async () => {
        resetRecorded();
        new m.AthenaWorkgroup("plain", args());
        await waitForRegistrations();
        assert.equal(named("plain-workgroup").inputs.configuration.bytesScannedCutoffPerQuery, 1073741824);
        assert.deepEqual(ofType("aws:athena/namedQuery:NamedQuery"), []);
    });

    describe("rejects", () => {
        const q = { name: "q", description: "d", query: "SELECT 1" };
        const cases: [string, Partial<AthenaWorkgroupArgs>, RegExp][] = [
            ["a cutoff below Athena's 10 MB", { bytesScannedCutoffPerQuery: 1_000_000 }, /bytesScannedCutoffPerQuery must be a whole number of bytes >= 10000000/],
            ["results at the bucket root", { resultsPrefix: "" }, /resultsPrefix is required/],
            ["a query defined twice", { namedQueries: [q, q] }, /named query q is defined twice/],
            ["an empty query", { namedQueries: [{ ...q, query: " " }] }, /has no SQL/],
            ["a workgroup name with a space", { name: "my group" }, /name "my group"/],
            ["no data prefix", { dataReadAccess: { bucketArn: BUCKET_ARN, prefixes: [] } }, /needs at least one prefix/],
        ];
        for (const [title, override, message] of cases) {
            it(title, () => assert.throws(() => new m.AthenaWorkgroup(`bad-${title.replace(/\W+/g, "-")}`, args(override)), message));
        }
    });
});
