/**
 * EncryptedTopic: one SNS topic encrypted with a customer-managed KMS key, reachable only over TLS, with
 * e-mail subscriptions — built in one place for the alerts topic (PipelineMonitoring), the claims flow's
 * topics (NotificationTopics) and the medallion flow's topic (MedallionWorkflow).
 *
 * Children: `<name>` the topic, `<name>-policy` (the caller's grants, then the TLS-only deny; it replaces
 * SNS's default policy, so nothing is granted that is not written here) and one subscription per address,
 * named by the address so that reordering the list replaces nothing (a replaced e-mail subscription must be
 * confirmed again by its recipient).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument, PolicyStatement, policyDocument } from "../iam/iamPolicies";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A stable logical-name part for a subscription, so reordering the list does not replace subscriptions. */
export const emailSubscriptionId = (email: string): string => email.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/**
 * Rejects a malformed or repeated address (case-insensitively: SNS would deliver twice). `owner` and `field`
 * name the argument in the message, e.g. "PipelineMonitoring: alertEmails".
 */
export function validateEmails(emails: readonly string[], owner: string, field: string): void {
    const seen = new Set<string>();
    for (const email of emails) {
        if (typeof email !== "string" || !EMAIL.test(email)) throw new Error(`${owner}: ${field}: ${JSON.stringify(email)} is not an email address`);
        const key = email.toLowerCase();
        if (seen.has(key)) throw new Error(`${owner}: ${field}: ${email} is listed twice`);
        seen.add(key);
    }
}

/** The statement that refuses every request to the topic made without TLS. */
export function denyInsecureTopicTransport(topicArn: string): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:*",
        Resource: topicArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

/** The topic policy: nothing reaches the topic except over TLS (account principals publish through IAM). */
export function tlsOnlyTopicPolicy(topicArn: string): PolicyDocument {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(topicArn)) throw new Error(`tlsOnlyTopicPolicy: ${JSON.stringify(topicArn)} is not a topic ARN`);
    return policyDocument([denyInsecureTopicTransport(topicArn)]);
}

/** One e-mail subscription. */
export interface EmailSubscription {
    readonly email: string;
    /** Logical name. @default `<topic component name>-email-<emailSubscriptionId(email)>` */
    readonly logicalName?: string;
    /** SNS filter policy (on message attributes): the address gets only matching messages. @default all */
    readonly filterPolicy?: Record<string, unknown>;
    /** Logical names the subscription had before: aliases adopt it instead of replacing it. @default none */
    readonly previousNames?: readonly string[];
}

export interface EncryptedTopicArgs {
    /** The topic's name, e.g. `glue-pipeline-alerts-dev`. */
    readonly topicName: string;
    /** Sender name of e-mails (SNS keeps 100 characters). */
    readonly displayName: string;
    /** The key that encrypts messages at rest; publishers need data keys of it. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Grants placed before the TLS-only deny, e.g. CloudWatch alarms publishing. @default none */
    readonly policyStatements?: (topicArn: string) => PolicyStatement[];
    /** E-mail subscriptions (each recipient confirms the e-mail SNS sends). @default none */
    readonly subscriptions?: readonly EmailSubscription[];
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The component these resources sat directly under before this primitive existed. Each child gets an
     * alias to it, so that an existing stack adopts them (a replaced subscription would need confirming again).
     * @default none
     */
    readonly formerParent?: pulumi.Resource;
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

export class EncryptedTopic extends pulumi.ComponentResource {
    public readonly topic: aws.sns.Topic;
    public readonly topicPolicy: aws.sns.TopicPolicy;
    public readonly subscriptions: aws.sns.TopicSubscription[];
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: EncryptedTopicArgs, opts: pulumi.ComponentResourceOptions = {}) {
        // Checked before anything registers, so that a bad argument leaves no half-built component behind.
        if (!TOPIC_NAME.test(args.topicName ?? "")) throw new Error(`EncryptedTopic: topicName ${JSON.stringify(args.topicName)} must be 1-256 letters, digits, '-' or '_'`);
        const subscriptions = args.subscriptions ?? [];
        validateEmails(
            subscriptions.map((s) => s.email),
            "EncryptedTopic",
            "subscriptions",
        );
        super("glue-pipeline:messaging:EncryptedTopic", name, {}, opts);
        const former = args.formerParent;
        const childOpts = (previousNames: readonly string[] = []): pulumi.CustomResourceOptions => {
            const aliases: pulumi.Input<pulumi.Alias>[] = [
                ...(former ? [{ parent: former }] : []),
                // A former name lived under the former parent, if there was one.
                ...previousNames.map((n) => (former ? { name: n, parent: former } : { name: n })),
            ];
            return { parent: this, ...(aliases.length > 0 ? { aliases } : {}) };
        };

        this.topic = new aws.sns.Topic(name, { name: args.topicName, displayName: args.displayName.slice(0, 100), kmsMasterKeyId: args.kmsKeyArn, tags: args.tags }, childOpts());
        this.arn = this.topic.arn;
        this.topicPolicy = new aws.sns.TopicPolicy(
            `${name}-policy`,
            {
                arn: this.topic.arn,
                policy: this.topic.arn.apply((arn) => {
                    tlsOnlyTopicPolicy(arn); // validates the ARN
                    return JSON.stringify(policyDocument([...(args.policyStatements?.(arn) ?? []), denyInsecureTopicTransport(arn)]));
                }),
            },
            childOpts(),
        );
        this.subscriptions = subscriptions.map(
            (s) =>
                new aws.sns.TopicSubscription(
                    s.logicalName ?? `${name}-email-${emailSubscriptionId(s.email)}`,
                    {
                        topic: this.topic.arn,
                        protocol: "email",
                        endpoint: s.email,
                        ...(s.filterPolicy !== undefined ? { filterPolicy: JSON.stringify(s.filterPolicy) } : {}),
                    },
                    childOpts(s.previousNames),
                ),
        );
        this.registerOutputs({ topicArn: this.arn });
    }
}
