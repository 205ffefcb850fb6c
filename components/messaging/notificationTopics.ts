/**
 * NotificationTopics: the claims flow's two SNS topics — a processing topic (`job_status_update` messages) and an
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
import { kmsUseStatement, PolicyStatement } from "../iam/iamPolicies";
import { EncryptedTopic, validateEmails } from "./encryptedTopic";

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

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
    validateEmails(args.errorEmails ?? [], "NotificationTopics", "errorEmails");
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
    public readonly processing: EncryptedTopic;
    public readonly errors: EncryptedTopic;
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
        const topic = (role: string, topicName: string, displayName: string, errorEmails: readonly string[] = []) =>
            new EncryptedTopic(
                `${name}-${role}`,
                {
                    topicName,
                    displayName,
                    kmsKeyArn: args.kmsKeyArn,
                    subscriptions: errorEmails.map((email) => ({ email })),
                    tags: args.tags,
                    // These resources sat directly under this component before EncryptedTopic existed.
                    formerParent: this,
                },
                { parent: this },
            );
        const prefix = args.displayNamePrefix;
        this.processing = topic("processing", args.processingTopicName, prefix ? `${prefix} processing` : args.processingTopicName);
        this.errors = topic("errors", args.errorTopicName, prefix ? `${prefix} errors` : args.errorTopicName, args.errorEmails);
        this.processingTopic = this.processing.topic;
        this.processingTopicPolicy = this.processing.topicPolicy;
        this.errorTopic = this.errors.topic;
        this.errorTopicPolicy = this.errors.topicPolicy;
        this.errorSubscriptions = this.errors.subscriptions;
        this.processingTopicArn = this.processingTopic.arn;
        this.errorTopicArn = this.errorTopic.arn;
        this.registerOutputs({ processingTopicArn: this.processingTopicArn, errorTopicArn: this.errorTopicArn });
    }
}
