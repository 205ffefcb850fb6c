import * as assert from "node:assert/strict";
import { ConfigError, DEFAULT_TAGS, FAST_PATH_CONFIG_DEFAULTS, editDistance, nearestKey, parseStackConfig, PROJECT_KEYS, RawConfig } from "../../stacks/config";

const P = "glue-data-pipeline";

/** A valid dev configuration in Pulumi's raw form, with `overrides` applied (undefined removes a key). */
function raw(overrides: Record<string, string | undefined> = {}): RawConfig {
    const base: Record<string, string | undefined> = {
        "aws:region": "eu-west-1",
        [`${P}:stage`]: "dev",
        [`${P}:accountId`]: "111111111111",
        [`${P}:tags`]: JSON.stringify({ Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering" }),
    };
    for (const [k, v] of Object.entries(overrides)) base[k.includes(":") ? k : `${P}:${k}`] = v;
    return base;
}

/** No AWS_REGION: these tests see only the config they pass, whatever the test process's environment. */
const NO_ENV = {};

describe("stack configuration", () => {
    describe("with the two keys of a sandbox stack (stage, accountId) and the region from the environment", () => {
        const config = parseStackConfig(
            "sandbox",
            { [`${P}:stage`]: "sandbox", [`${P}:accountId`]: "123456789012" },
            { AWS_REGION: "us-east-2" },
        );

        it("takes the region from AWS_REGION, as the AWS CLI does", () => {
            assert.deepEqual([config.stage, config.accountId, config.region], ["sandbox", "123456789012", "us-east-2"]);
        });

        it("tags every resource with the project, an unassigned owner and cost center, and the stage", () => {
            assert.deepEqual(config.tags, { Project: "glue-data-pipeline", Owner: "unassigned", CostCenter: "unassigned", Environment: "sandbox" });
        });

        it("reserves no Lambda concurrency, keeps data on destroy and deploys no medallion workflow", () => {
            assert.equal(config.trigger.reservedConcurrency, undefined);
            assert.equal(config.allowDataDestroy, false);
            assert.equal(config.medallion, undefined);
            assert.equal(config.permissionsBoundaryArn, undefined);
            assert.equal(config.deployRoleArn, undefined);
        });

        it("prefers aws:region to the environment, and AWS_REGION to AWS_DEFAULT_REGION", () => {
            const two = { [`${P}:stage`]: "sandbox", [`${P}:accountId`]: "123456789012" };
            assert.equal(parseStackConfig("s", { ...two, "aws:region": "eu-west-1" }, { AWS_REGION: "us-east-2" }).region, "eu-west-1");
            assert.equal(parseStackConfig("s", two, { AWS_REGION: "us-east-2", AWS_DEFAULT_REGION: "eu-central-1" }).region, "us-east-2");
            assert.equal(parseStackConfig("s", two, { AWS_DEFAULT_REGION: "eu-central-1" }).region, "eu-central-1");
            assert.throws(() => parseStackConfig("s", two, NO_ENV), /aws:region: missing; expected an AWS region such as eu-west-1 \(or AWS_REGION in the environment\)/);
            assert.throws(() => parseStackConfig("s", two, { AWS_REGION: "mars" }), /aws:region: "mars" is not an AWS region/);
        });

        it("treats the empty defaults Pulumi.yaml declares as absent", () => {
            const withDefaults = parseStackConfig(
                "s",
                { [`${P}:stage`]: "sandbox", [`${P}:accountId`]: "123456789012", [`${P}:deployRoleArn`]: "", [`${P}:permissionsBoundaryArn`]: "", [`${P}:allowDataDestroy`]: "false" },
                { AWS_REGION: "us-east-2" },
            );
            assert.deepEqual([withDefaults.deployRoleArn, withDefaults.permissionsBoundaryArn, withDefaults.allowDataDestroy], [undefined, undefined, false]);
        });
    });

    describe("with the minimum settings", () => {
        const config = parseStackConfig("dev", raw(), NO_ENV);

        it("reads stage, account and region", () => {
            assert.equal(config.stage, "dev");
            assert.equal(config.accountId, "111111111111");
            assert.equal(config.region, "eu-west-1");
            assert.equal(config.deployRoleArn, undefined);
            assert.equal(config.permissionsBoundaryArn, undefined);
        });

        it("sets the Environment tag from the stage beside the three required tags", () => {
            assert.deepEqual(config.tags, { Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "engineering", Environment: "dev" });
        });

        it("takes the cheap, safe defaults", () => {
            assert.deepEqual(config.glue, { version: "5.1", maxWorkers: 2, executionClass: "STANDARD" });
            assert.deepEqual(config.trigger, { memoryMb: 256, reservedConcurrency: undefined, queue: { batchSize: 10, maximumConcurrency: 2, maxReceiveCount: 5, maxAgeAlarmSeconds: 3600 } });
            assert.equal(config.allowDataDestroy, false);
            assert.equal(config.promotion, undefined);
            assert.deepEqual(config.alerts, { emails: [] });
        });
    });

    describe("with every setting", () => {
        const config = parseStackConfig(
            "prod",
            raw({
                stage: "prod",
                deployRoleArn: "arn:aws:iam::111111111111:role/PulumiDeploy",
                permissionsBoundaryArn: "arn:aws:iam::111111111111:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-prod",
                glue: JSON.stringify({ version: "5.0", maxWorkers: 10, executionClass: "FLEX" }),
                trigger: JSON.stringify({
                    memoryMb: 512,
                    reservedConcurrency: 20,
                    queue: { batchSize: 5, maximumConcurrency: 20, maxReceiveCount: 3, maxAgeAlarmSeconds: 900, requeueBaseDelaySeconds: 15, maxWaitAttempts: 50 },
                }),
                allowDataDestroy: "true",
                promotion: JSON.stringify({ fromStack: "acme/glue-data-pipeline/dev" }),
                alerts: JSON.stringify({ emails: ["oncall@example.com", "Data.Team+alerts@example.org"] }),
            }),
            NO_ENV,
        );

        it("reads them all", () => {
            assert.equal(config.deployRoleArn, "arn:aws:iam::111111111111:role/PulumiDeploy");
            assert.equal(config.permissionsBoundaryArn, "arn:aws:iam::111111111111:policy/glue-data-pipeline-bootstrap/glue-data-pipeline-boundary-prod");
            assert.deepEqual(config.glue, { version: "5.0", maxWorkers: 10, executionClass: "FLEX" });
            assert.deepEqual(config.trigger, {
                memoryMb: 512,
                reservedConcurrency: 20,
                queue: { batchSize: 5, maximumConcurrency: 20, maxReceiveCount: 3, maxAgeAlarmSeconds: 900, requeueBaseDelaySeconds: 15, maxWaitAttempts: 50 },
            });
            assert.equal(config.allowDataDestroy, true);
            // requireSmoke is on unless the stack file turns it off.
            assert.deepEqual(config.promotion, { fromStack: "acme/glue-data-pipeline/dev", requireSmoke: true });
            assert.equal(config.smokeOnUp, false);
            assert.deepEqual(config.alerts, { emails: ["oncall@example.com", "Data.Team+alerts@example.org"] });
        });
    });

    describe("with a bad value, the error names the key", () => {
        const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
            ["missing stage", { stage: undefined }, /glue-data-pipeline:stage: missing/],
            ["stage with capitals", { stage: "Dev" }, /glue-data-pipeline:stage: "Dev" is not a stage name/],
            ["short account id", { accountId: "1234" }, /glue-data-pipeline:accountId: "1234" is not a 12-digit AWS account id/],
            ["missing region", { "aws:region": undefined }, /aws:region: missing; expected an AWS region/],
            ["bad region", { "aws:region": "europe" }, /aws:region: "europe" is not an AWS region/],
            ["role in another account", { deployRoleArn: "arn:aws:iam::999999999999:role/X" }, /deployRoleArn: role .* is not in account 111111111111/],
            ["not a role ARN", { deployRoleArn: "PulumiDeploy" }, /deployRoleArn: "PulumiDeploy" is not an IAM role ARN/],
            ["boundary is a role, not a policy", { permissionsBoundaryArn: "arn:aws:iam::111111111111:role/X" }, /permissionsBoundaryArn: ".*" is not an IAM managed policy ARN/],
            ["boundary in another account", { permissionsBoundaryArn: "arn:aws:iam::999999999999:policy/B" }, /permissionsBoundaryArn: policy .* is not in account 111111111111/],
            ["a tag without a value", { tags: JSON.stringify({ Project: "p", Owner: "" }) }, /tags.Owner: "" is not a non-empty string/],
            ["tags not a mapping", { tags: "[1]" }, /glue-data-pipeline:tags: expected an object/],
            ["Environment tag against the stage", { tags: JSON.stringify({ Project: "p", Owner: "o", CostCenter: "c", Environment: "prod" }) }, /tags.Environment: "prod" differs from stage "dev"/],
            ["unknown glue setting", { glue: JSON.stringify({ workers: 3 }) }, /glue.workers: unknown setting; did you mean maxWorkers\? \(known settings of glue: version, maxWorkers, executionClass\)/],
            ["a typo'd glue setting", { glue: JSON.stringify({ maxWorker: 3 }) }, /glue.maxWorker: unknown setting; did you mean maxWorkers\?/],
            ["a typo'd top-level key", { allowDataDestory: "true" }, /glue-data-pipeline:allowDataDestory: unknown setting; did you mean allowDataDestroy\? \(known settings of glue-data-pipeline: stage, accountId/],
            ["a key in the wrong case", { AccountID: "111111111111" }, /glue-data-pipeline:AccountID: unknown setting; did you mean accountId\?/],
            ["a misspelt namespace", { "glue-data-pipline:allowDataDestroy": "true" }, /glue-data-pipline:allowDataDestroy: unknown namespace glue-data-pipline; did you mean glue-data-pipeline:allowDataDestroy\?/],
            ["a top-level key nothing is near", { colour: "blue" }, /glue-data-pipeline:colour: unknown setting \(known settings of glue-data-pipeline: /],
            ["a nested setting written at the top level", { maxWorkers: "4" }, /glue-data-pipeline:maxWorkers: unknown setting \(known settings/],
            ["a reserved concurrency of 0 (Lambda's kill switch, not a setting)", { trigger: JSON.stringify({ reservedConcurrency: 0 }) }, /trigger.reservedConcurrency: 0 is not a whole number from 1 to 1000/],
            ["a reserved concurrency as text", { trigger: JSON.stringify({ reservedConcurrency: "10" }) }, /trigger.reservedConcurrency: "10" is not a whole number/],
            ["glue version not a version", { glue: JSON.stringify({ version: "latest" }) }, /glue.version: "latest" is not a Glue version/],
            ["one worker", { glue: JSON.stringify({ maxWorkers: 1 }) }, /glue.maxWorkers: 1 is not a whole number from 2 to 100/],
            ["execution class", { glue: JSON.stringify({ executionClass: "SPOT" }) }, /glue.executionClass: "SPOT" is not one of STANDARD, FLEX/],
            ["memory below Lambda's minimum", { trigger: JSON.stringify({ memoryMb: 64 }) }, /trigger.memoryMb: 64 is not a whole number from 128 to 10240/],
            ["a queue batch of 11", { trigger: JSON.stringify({ queue: { batchSize: 11 } }) }, /trigger.queue.batchSize: 11 is not a whole number from 1 to 10/],
            ["a queue concurrency of 1 (AWS's minimum is 2)", { trigger: JSON.stringify({ queue: { maximumConcurrency: 1 } }) }, /trigger.queue.maximumConcurrency: 1 is not a whole number from 2 to 1000/],
            [
                "a queue concurrency above the reservation",
                { trigger: JSON.stringify({ reservedConcurrency: 5, queue: { maximumConcurrency: 6 } }) },
                /trigger.queue.maximumConcurrency: 6 exceeds trigger.reservedConcurrency 5/,
            ],
            ["a queue age alarm under a minute", { trigger: JSON.stringify({ queue: { maxAgeAlarmSeconds: 30 } }) }, /trigger.queue.maxAgeAlarmSeconds: 30/],
            ["a re-send delay beyond SQS's 900 s", { trigger: JSON.stringify({ queue: { requeueBaseDelaySeconds: 901 } }) }, /trigger.queue.requeueBaseDelaySeconds: 901/],
            ["a misspelt queue field", { trigger: JSON.stringify({ queue: { batchsize: 5 } }) }, /trigger.queue.batchsize: .*batchSize/],
            ["allowDataDestroy not boolean", { allowDataDestroy: "yes" }, /allowDataDestroy: "yes" is not true or false/],
            ["alert emails not a list", { alerts: JSON.stringify({ emails: "oncall@example.com" }) }, /alerts.emails: "oncall@example.com" is not a list of an email address/],
            ["alert email without a domain", { alerts: JSON.stringify({ emails: ["ok@example.com", "oncall"] }) }, /alerts.emails\[1\]: "oncall" is not an email address/],
            ["alert email listed twice", { alerts: JSON.stringify({ emails: ["a@example.com", "A@example.com"] }) }, /alerts.emails\[1\]: A@example.com is listed twice/],
            ["unknown alerts setting", { alerts: JSON.stringify({ email: ["a@example.com"] }) }, /alerts.email: unknown setting; did you mean emails\? \(known settings of alerts: emails\)/],
            ["promotion source not a full stack name", { promotion: JSON.stringify({ fromStack: "dev" }) }, /promotion.fromStack: "dev" is not a stack name of the form org\/project\/stack/],
        ];
        for (const [title, overrides, message] of cases) {
            it(title, () => {
                assert.throws(() => parseStackConfig("dev", raw(overrides), NO_ENV), (err: Error) => {
                    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
                    assert.match(err.message, message);
                    return true;
                });
            });
        }
    });

    describe("the medallion workflow", () => {
        const withMedallion = (settings: Record<string, unknown>) => parseStackConfig("dev", raw({ medallion: JSON.stringify(settings) }), NO_ENV);

        it("is not deployed when the stack has no medallion section", () => {
            assert.equal(parseStackConfig("dev", raw(), NO_ENV).medallion, undefined);
        });

        it("with only the API URL: daily at 09:00 UTC, enabled, no data is not a failure, 1 GiB Athena cutoff", () => {
            assert.deepEqual(withMedallion({ apiBaseUrl: "https://api.example.com/v1/orders" }).medallion, {
                apiBaseUrl: "https://api.example.com/v1/orders",
                apiKeyHeader: "x-api-key",
                pageSize: 100,
                schedule: "cron(0 9 * * ? *)",
                scheduleEnabled: true,
                noDataIsFailure: false,
                athenaBytesScannedCutoffMb: 1024,
                ingestConcurrency: undefined,
            });
        });

        it("reads every setting", () => {
            const settings = {
                apiBaseUrl: "https://api.example.com:8443/v2/orders?region=eu",
                apiKeyHeader: "Authorization-Key",
                pageSize: 500,
                schedule: "cron(30 6 ? * MON-FRI *)",
                scheduleEnabled: false,
                noDataIsFailure: true,
                athenaBytesScannedCutoffMb: 100,
                ingestConcurrency: 10,
            };
            assert.deepEqual(withMedallion(settings).medallion, settings);
            assert.equal(withMedallion({ apiBaseUrl: "https://a.example", schedule: "rate(12 hours)" }).medallion?.schedule, "rate(12 hours)");
        });

        const bad: Array<[string, Record<string, unknown>, RegExp]> = [
            ["no API URL", { schedule: "cron(0 9 * * ? *)" }, /medallion.apiBaseUrl: missing; expected an https URL/],
            ["an http API URL", { apiBaseUrl: "http://api.example.com" }, /medallion.apiBaseUrl: "http:\/\/api.example.com" is not an https URL/],
            ["a cron with five fields", { apiBaseUrl: "https://a.example", schedule: "cron(0 9 * * *)" }, /medallion.schedule: "cron\(0 9 \* \* \*\)" is not a schedule/],
            ["a cron without ?", { apiBaseUrl: "https://a.example", schedule: "cron(0 9 * * * *)" }, /medallion.schedule: .*exactly one of day-of-month and day-of-week must be "\?"/],
            ["a cron with two ?", { apiBaseUrl: "https://a.example", schedule: "cron(0 9 ? * ? *)" }, /exactly one of day-of-month/],
            ["a zero rate", { apiBaseUrl: "https://a.example", schedule: "rate(0 days)" }, /medallion.schedule/],
            ["scheduleEnabled as a string", { apiBaseUrl: "https://a.example", scheduleEnabled: "yes" }, /medallion.scheduleEnabled: "yes" is not true or false/],
            ["a page size of 0", { apiBaseUrl: "https://a.example", pageSize: 0 }, /medallion.pageSize: 0 is not a whole number from 1 to 10000/],
            ["an Athena cutoff below Athena's minimum", { apiBaseUrl: "https://a.example", athenaBytesScannedCutoffMb: 5 }, /medallion.athenaBytesScannedCutoffMb: 5 is not a whole number from 10/],
            ["a header with a space", { apiBaseUrl: "https://a.example", apiKeyHeader: "x api key" }, /medallion.apiKeyHeader/],
            ["an unknown setting (e.g. the key itself)", { apiBaseUrl: "https://a.example", apiKey: "s3cr3t" }, /medallion.apiKey: unknown setting; did you mean apiKeyHeader\? \(known settings of medallion: apiBaseUrl, apiKeyHeader/],
            ["an ingest concurrency of 0", { apiBaseUrl: "https://a.example", ingestConcurrency: 0 }, /medallion.ingestConcurrency: 0 is not a whole number from 1 to 1000/],
        ];
        for (const [title, settings, message] of bad) {
            it(`rejects ${title}, naming the key`, () => assert.throws(() => withMedallion(settings), (err: Error) => err instanceof ConfigError && message.test(err.message)));
        }
    });

    describe("the claims flow", () => {
        const withClaims = (claims: Record<string, unknown> | undefined, alerts?: string[]) =>
            parseStackConfig(
                "dev",
                raw({
                    ...(claims !== undefined ? { claims: JSON.stringify(claims) } : {}),
                    ...(alerts !== undefined ? { alerts: JSON.stringify({ emails: alerts }) } : {}),
                }),
                NO_ENV,
            ).claims;

        it("by default mails claims errors to the alert addresses and needs a quality score of 95", () => {
            assert.deepEqual(withClaims(undefined), { errorEmails: [], minQualityScore: 95 });
            assert.deepEqual(withClaims(undefined, ["oncall@example.com"]), { errorEmails: ["oncall@example.com"], minQualityScore: 95 });
        });

        it("reads its own addresses (an empty list turns the mails off) and a score with two decimals", () => {
            assert.deepEqual(withClaims({ errorEmails: ["claims-team@example.com"], minQualityScore: 97.25 }, ["oncall@example.com"]), {
                errorEmails: ["claims-team@example.com"],
                minQualityScore: 97.25,
            });
            assert.deepEqual(withClaims({ errorEmails: [] }, ["oncall@example.com"])?.errorEmails, []);
            assert.equal(withClaims({ minQualityScore: 0 })?.minQualityScore, 0);
        });

        const bad: Array<[string, Record<string, unknown>, RegExp]> = [
            ["a score above 100", { minQualityScore: 100.5 }, /claims.minQualityScore: 100.5 is not a number from 0 to 100 with at most 2 decimals/],
            ["a score with three decimals", { minQualityScore: 95.125 }, /claims.minQualityScore: 95.125 is not a number/],
            ["a score as text", { minQualityScore: "95" }, /claims.minQualityScore: "95" is not a number/],
            ["an address without a domain", { errorEmails: ["claims"] }, /claims.errorEmails\[0\]: "claims" is not an email address/],
            ["an address listed twice", { errorEmails: ["a@example.com", "A@example.com"] }, /claims.errorEmails\[1\]: A@example.com is listed twice/],
            ["an unknown setting", { emails: ["a@example.com"] }, /claims.emails: unknown setting; did you mean errorEmails\? \(known settings of claims: errorEmails, minQualityScore, warehouse\)/],
        ];
        for (const [title, settings, message] of bad) {
            it(`rejects ${title}, naming the key`, () => assert.throws(() => withClaims(settings), (err: Error) => err instanceof ConfigError && message.test(err.message)));
        }
    });

    describe("tags", () => {
        it("default each of Project, Owner and CostCenter that the stack leaves out, and keep extra tags", () => {
            const tags = (t: Record<string, string>) => parseStackConfig("dev", raw({ tags: JSON.stringify(t) }), NO_ENV).tags;
            assert.deepEqual(tags({}), { ...DEFAULT_TAGS, Environment: "dev" });
            assert.deepEqual(tags({ Owner: "data-eng", Team: "ingest" }), { Project: "glue-data-pipeline", Owner: "data-eng", CostCenter: "unassigned", Team: "ingest", Environment: "dev" });
            assert.deepEqual(parseStackConfig("dev", raw({ tags: undefined }), NO_ENV).tags, { ...DEFAULT_TAGS, Environment: "dev" });
        });
    });

    describe("strict keys", () => {
        it("ignore other namespaces (the provider's and Pulumi's own keys)", () => {
            assert.doesNotThrow(() => parseStackConfig("dev", raw({ "aws:profile": "sandbox", "pulumi:tags": "{}", "aws:skipMetadataApiCheck": "false" }), NO_ENV));
        });

        it("accept every key the project declares", () => {
            assert.deepEqual([...PROJECT_KEYS].sort(), ["accountId", "alerts", "allowDataDestroy", "claims", "csv", "deployRoleArn", "fastPath", "glue", "medallion", "permissionsBoundaryArn", "promotion", "smokeOnUp", "stage", "tags", "trigger"]);
        });

        it("fastPath: on by default with the contract's size limit and the converter's sizing; each field read and bounded; unknown fields refused naming the nearest", async () => {
            const { CSV_CONVERTER_DEFAULTS_SETTINGS } = await import("../../components/compute/csvConverter");
            const defaults = parseStackConfig("dev", raw({}), NO_ENV).fastPath!;
            assert.deepEqual(defaults, FAST_PATH_CONFIG_DEFAULTS);
            assert.equal(defaults.enabled, true);
            assert.equal(defaults.maxBytes, 268435456);
            for (const field of ["memoryMb", "timeoutSeconds", "ephemeralStorageMb", "maximumConcurrency"] as const) {
                assert.equal(defaults[field], CSV_CONVERTER_DEFAULTS_SETTINGS[field], `${field}: config and component defaults agree`);
            }
            const set = { enabled: false, maxBytes: 1048576, memoryMb: 3008, timeoutSeconds: 300, ephemeralStorageMb: 4096, maximumConcurrency: 10 };
            assert.deepEqual(parseStackConfig("dev", raw({ [`${P}:fastPath`]: JSON.stringify(set) }), NO_ENV).fastPath, set);
            for (const [field, value] of [["maxBytes", 0], ["memoryMb", 64], ["timeoutSeconds", 60], ["timeoutSeconds", 901], ["ephemeralStorageMb", 100], ["maximumConcurrency", 1], ["enabled", "yes"]] as const) {
                assert.throws(() => parseStackConfig("dev", raw({ [`${P}:fastPath`]: JSON.stringify({ [field]: value }) }), NO_ENV), new RegExp(`fastPath\\.${field}`), `${field} ${value}`);
            }
            assert.throws(() => parseStackConfig("dev", raw({ [`${P}:fastPath`]: JSON.stringify({ maxByte: 5 }) }), NO_ENV), /fastPath\.maxByte: unknown setting; did you mean maxBytes\?/);
        });

        it("smokeOnUp and promotion.requireSmoke: read when given; requireSmoke without fromStack refused", () => {
            const c = parseStackConfig("dev", raw({ [`${P}:smokeOnUp`]: "true", [`${P}:promotion`]: JSON.stringify({ fromStack: "acme/glue-data-pipeline/dev", requireSmoke: false }) }), NO_ENV);
            assert.equal(c.smokeOnUp, true);
            assert.deepEqual(c.promotion, { fromStack: "acme/glue-data-pipeline/dev", requireSmoke: false });
            assert.throws(
                () => parseStackConfig("dev", raw({ [`${P}:promotion`]: JSON.stringify({ requireSmoke: true }) }), NO_ENV),
                /glue-data-pipeline:promotion\.requireSmoke: needs promotion\.fromStack/,
            );
            assert.throws(() => parseStackConfig("dev", raw({ [`${P}:smokeOnUp`]: "yes" }), NO_ENV), /smokeOnUp/);
        });

        const distances: Array<[string, string, number]> = [
            ["allowDataDestory", "allowDataDestroy", 1],
            ["maxworkers", "maxWorkers", 0],
            ["emial", "email", 1],
            ["stage", "stage", 0],
            ["", "stage", 5],
            ["kitten", "sitting", 3],
        ];
        for (const [a, b, d] of distances) it(`count ${d} edits from ${JSON.stringify(a)} to ${JSON.stringify(b)}`, () => assert.equal(editDistance(a, b), d));

        const nearest: Array<[string, string | undefined]> = [
            ["allowDataDestory", "allowDataDestroy"],
            ["acountId", "accountId"],
            ["permissionBoundaryArn", "permissionsBoundaryArn"],
            ["promotions", "promotion"],
            ["alert", "alerts"],
            ["deployRole", "deployRoleArn"],
            ["colour", undefined],
            ["xy", undefined],
        ];
        for (const [key, expected] of nearest) it(`name ${expected ?? "nothing"} for ${key}`, () => assert.equal(nearestKey(key, PROJECT_KEYS), expected));
    });
});
