/**
 * NotificationTopics: seed 002's two SNS topics — a processing topic (`job_status_update` messages) and an
 * error topic (`error` messages, emailed to whoever the stack configures) — both encrypted with a
 * customer-managed KMS key and reachable only over TLS.
 *
 * The publishers are this account's roles (the claims validation function, the claims Glue job), which
 * publish through their IAM policies ({@link topicPublishStatements}); no service principal is granted, so
 * the data-lake key can encrypt the topics (a topic that CloudWatch alarms publish to needs a key policy
 * naming cloudwatch.amazonaws.com: that is PipelineMonitoring's alerts topic, not these).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { kmsUseStatement, PolicyDocument, policyDocument, PolicyStatement } from "../iam/iamPolicies";

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface NotificationTopicsArgs {
    /** Name of the processing topic, e.g. `healthcare-claims-processing-dev`. */
    readonly processingTopicName: string;
    /** Name of the error topic, e.g. `healthcare-claims-errors-dev`. */
    readonly errorTopicName: string;
    /** Key that encrypts both topics; publishers need kms:GenerateDataKey and kms:Decrypt on it. */
    readonly kmsKeyArn: pulumi.Input<string>;
    /** Addresses subscribed to the error topic (each confirms the subscription email SNS sends). @default none */
    readonly errorEmails?: readonly string[];
    /** Human-readable sender name of emails. @default the topic name */
    readonly displayNamePrefix?: string;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Rejects topic names SNS refuses, the same name twice, and malformed or repeated addresses. */
export function validateNotificationTopicsArgs(args: Pick<NotificationTopicsArgs, "processingTopicName" | "errorTopicName" | "errorEmails">): void {
    for (const field of ["processingTopicName", "errorTopicName"] as const) {
        if (!TOPIC_NAME.test(args[field] ?? "")) throw new Error(`NotificationTopics: ${field} ${JSON.stringify(args[field])} must be 1-256 letters, digits, '-' or '_'`);
    }
    if (args.processingTopicName === args.errorTopicName) {
        throw new Error("NotificationTopics: processingTopicName and errorTopicName are the same; errors must not reach the processing topic's subscribers");
    }
    const seen = new Set<string>();
    for (const email of args.errorEmails ?? []) {
        if (!EMAIL.test(email)) throw new Error(`NotificationTopics: errorEmails: ${JSON.stringify(email)} is not an email address`);
        if (seen.has(email.toLowerCase())) throw new Error(`NotificationTopics: errorEmails: ${email} is listed twice`);
        seen.add(email.toLowerCase());
    }
}

/** A stable logical-name part for a subscription, so reordering the list does not replace subscriptions. */
export const emailSubscriptionId = (email: string): string => email.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** The topic policy: nothing reaches the topic except over TLS (account principals publish through IAM). */
export function tlsOnlyTopicPolicy(topicArn: string): PolicyDocument {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(topicArn)) throw new Error(`tlsOnlyTopicPolicy: ${JSON.stringify(topicArn)} is not a topic ARN`);
    return policyDocument([
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:*",
            Resource: topicArn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
    ]);
}

/** What a role needs to publish to encrypted topics: sns:Publish on them and data keys of their key. */
export function topicPublishStatements(topicArns: readonly string[], kmsKeyArn: string, sid = "PublishNotifications"): PolicyStatement[] {
    if (topicArns.length === 0) throw new Error("topicPublishStatements: at least one topic ARN is required");
    for (const arn of topicArns) if (!arn.startsWith("arn:") || !arn.includes(":sns:")) throw new Error(`topicPublishStatements: ${JSON.stringify(arn)} is not a topic ARN`);
    return [
        { Sid: sid, Effect: "Allow", Action: ["sns:Publish"], Resource: [...new Set(topicArns)] },
        kmsUseStatement(kmsKeyArn, "encryptDecrypt", { sid: `${sid}Encrypted` }),
    ];
}

export class NotificationTopics extends pulumi.ComponentResource {
    public readonly processingTopic: aws.sns.Topic;
    public readonly errorTopic: aws.sns.Topic;
    public readonly processingTopicPolicy: aws.sns.TopicPolicy;
    public readonly errorTopicPolicy: aws.sns.TopicPolicy;
    public readonly errorSubscriptions: aws.sns.TopicSubscription[];
    public readonly processingTopicArn: pulumi.Output<string>;
    public readonly errorTopicArn: pulumi.Output<string>;

    constructor(name: string, args: NotificationTopicsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:messaging:NotificationTopics", name, {}, opts);
        validateNotificationTopicsArgs(args);
        const tags = args.tags;
        const topic = (role: string, topicName: string, display: string) => {
            const t = new aws.sns.Topic(
                `${name}-${role}`,
                { name: topicName, displayName: display.slice(0, 100), kmsMasterKeyId: args.kmsKeyArn, tags },
                { parent: this },
            );
            const policy = new aws.sns.TopicPolicy(
                `${name}-${role}-policy`,
                { arn: t.arn, policy: t.arn.apply((arn) => JSON.stringify(tlsOnlyTopicPolicy(arn))) },
                { parent: this },
            );
            return [t, policy] as const;
        };
        const prefix = args.displayNamePrefix;
        [this.processingTopic, this.processingTopicPolicy] = topic("processing", args.processingTopicName, prefix ? `${prefix} processing` : args.processingTopicName);
        [this.errorTopic, this.errorTopicPolicy] = topic("errors", args.errorTopicName, prefix ? `${prefix} errors` : args.errorTopicName);
        this.errorSubscriptions = (args.errorEmails ?? []).map(
            (email) =>
                new aws.sns.TopicSubscription(
                    `${name}-errors-email-${emailSubscriptionId(email)}`,
                    { topic: this.errorTopic.arn, protocol: "email", endpoint: email },
                    { parent: this },
                ),
        );
        this.processingTopicArn = this.processingTopic.arn;
        this.errorTopicArn = this.errorTopic.arn;
        this.registerOutputs({ processingTopicArn: this.processingTopicArn, errorTopicArn: this.errorTopicArn });
    }
}
