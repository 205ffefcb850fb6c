/**
 * EncryptedTopic under Pulumi mocks: the one place a topic gets its key, its TLS-only policy and its e-mail
 * subscriptions (named by address), and the aliases that adopt what a stack built before it existed.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { descendantsOf, named, ofType, resetRecorded, statementsOf, waitForRegistrations } from "../support/graph";

let m: typeof import("../../components/messaging/encryptedTopic");

const ACCOUNT = "111111111111";
const REGION = "eu-west-1";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/alerts`;
const TOPIC = "aws:sns/topic:Topic";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const arnOf = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

class Holder extends pulumi.ComponentResource {
    constructor(name: string) {
        super("test:index:Holder", name, {}, {});
    }
}

describe("EncryptedTopic", () => {
    before(async () => {
        m = await import("../../components/messaging/encryptedTopic");
    });

    describe("with subscriptions and an extra grant", () => {
        before(async () => {
            resetRecorded();
            new m.EncryptedTopic("t", {
                topicName: "my-topic",
                displayName: "My topic",
                kmsKeyArn: KEY,
                policyStatements: (arn) => [{ Sid: "ServicePublishes", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: arn }],
                subscriptions: [{ email: "Oncall@Example.com" }, { email: "team@example.org", logicalName: "team-mail", filterPolicy: { status: ["FAILED"] } }],
            });
            await waitForRegistrations();
        });

        it("encrypts the topic with the given key", () => {
            const topic = named("t", TOPIC).inputs;
            assert.deepEqual([topic.name, topic.displayName, topic.kmsMasterKeyId], ["my-topic", "My topic", KEY]);
        });

        it("puts the caller's grant first, then refuses every request without TLS", () => {
            const statements = statementsOf(named("t-policy").inputs.policy);
            assert.deepEqual(statements.map((s) => s.Sid), ["ServicePublishes", "DenyInsecureTransport"]);
            assert.deepEqual(statements[1], {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:*",
                Resource: arnOf("my-topic"),
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            });
            assert.equal(named("t-policy").inputs.arn, arnOf("my-topic"));
        });

        it("subscribes each address by e-mail, named by address unless named, with its filter policy", () => {
            const subs = ofType(SUBSCRIPTION).map((s) => [s.name, s.inputs.protocol, s.inputs.endpoint, s.inputs.topic, s.inputs.filterPolicy]);
            assert.deepEqual(subs.sort(), [
                ["t-email-oncall-example-com", "email", "Oncall@Example.com", arnOf("my-topic"), undefined],
                ["team-mail", "email", "team@example.org", arnOf("my-topic"), JSON.stringify({ status: ["FAILED"] })],
            ]);
        });

        it("parents every child to the component, without aliases", () => {
            const children = descendantsOf(named("t", "glue-pipeline:messaging:EncryptedTopic"));
            assert.equal(children.length, 4);
            for (const c of children) assert.deepEqual(c.aliasNames, [], c.name);
        });
    });

    describe("moved under it from a former parent", () => {
        before(async () => {
            resetRecorded();
            const holder = new Holder("old");
            new m.EncryptedTopic(
                "old-topic",
                { topicName: "x", displayName: "x", kmsKeyArn: KEY, subscriptions: [{ email: "a@example.com", logicalName: "old-mail-a", previousNames: ["old-mail-0"] }], formerParent: holder },
                { parent: holder },
            );
            await waitForRegistrations();
        });

        it("aliases each child to the former parent, and a renamed subscription to its former name there", () => {
            const holder = named("old", "test:index:Holder");
            for (const name of ["old-topic", "old-topic-policy"]) {
                assert.deepEqual(ofType(name === "old-topic" ? TOPIC : "aws:sns/topicPolicy:TopicPolicy")[0].aliases, [{ parentUrn: holder.urn }], name);
            }
            assert.deepEqual(named("old-mail-a", SUBSCRIPTION).aliases, [{ parentUrn: holder.urn }, { name: "old-mail-0", parentUrn: holder.urn }]);
        });
    });

    describe("pure helpers", () => {
        it("names subscriptions by address, case-insensitively", () => {
            assert.equal(m.emailSubscriptionId("Data.Team+alerts@Example.org"), "data-team-alerts-example-org");
            assert.equal(m.emailSubscriptionId("a@x.io"), m.emailSubscriptionId("A@X.IO"));
        });

        it("rejects malformed and repeated addresses, naming the owner and field", () => {
            assert.throws(() => m.validateEmails(["oncall"], "Owner", "emails"), /Owner: emails: "oncall" is not an email address/);
            assert.throws(() => m.validateEmails(["a@example.com", "A@EXAMPLE.COM"], "Owner", "emails"), /Owner: emails: A@EXAMPLE.COM is listed twice/);
            assert.throws(() => new m.EncryptedTopic("dup", { topicName: "d", displayName: "d", kmsKeyArn: KEY, subscriptions: [{ email: "a@b.co" }, { email: "A@b.co" }] }), /listed twice/);
        });

        it("refuses a topic name SNS would refuse, and a TLS-only policy for something that is not a topic", () => {
            assert.throws(() => new m.EncryptedTopic("bad", { topicName: "a.b", displayName: "d", kmsKeyArn: KEY }), /topicName/);
            assert.throws(() => m.tlsOnlyTopicPolicy("arn:aws:s3:::bucket"), /not a topic ARN/);
        });
    });
});
