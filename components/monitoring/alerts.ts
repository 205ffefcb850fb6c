/**
 * Where PipelineMonitoring's alerts go (pure): the alerts topic's name, the policy of the key that encrypts
 * it (CloudWatch alarms must be able to use it), the topic's policy and the subscribed addresses' checks.
 * The topic itself is an EncryptedTopic (components/messaging).
 */
import { KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS } from "../storage/dataLakeBuckets";
import { PolicyDocument, PolicyStatement, policyDocument } from "../iam/iamPolicies";
import { denyInsecureTopicTransport, emailSubscriptionId, validateEmails } from "../messaging/encryptedTopic";

export function validateAlertEmails(emails: readonly string[]): void {
    validateEmails(emails, "PipelineMonitoring", "alertEmails");
}

/** A logical-name-safe, stable id for a subscription: reordering the list must not replace subscriptions. */
export const subscriptionId = emailSubscriptionId;

export const alertsTopicName = (stage: string): string => `glue-pipeline-alerts-${stage}`;

/**
 * Policy of the key that encrypts the alerts topic. CloudWatch alarms publish to an encrypted topic only if
 * the key lets `cloudwatch.amazonaws.com` generate and decrypt data keys (the AWS-managed `alias/aws/sns`
 * cannot be given that, so a customer key is required). The key encrypts nothing but alert messages (which
 * is why it is not the data-lake key); the service grant is held to this account's alarms by aws:SourceAccount.
 */
export function alertsKeyPolicy(accountId: string, partition = "aws"): PolicyDocument {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`alertsKeyPolicy: ${JSON.stringify(accountId)} is not an account id`);
    const root = `arn:${partition}:iam::${accountId}:root`;
    return policyDocument([
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" },
        { Sid: "AccountDelegatesUseToIam", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_USE_ACTIONS], Resource: "*" },
        {
            Sid: "CloudWatchAlarmsPublishEncrypted",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            // Confused deputy: only CloudWatch acting for this account's alarms, not another account's.
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
    ]);
}

/**
 * The topic's access policy (it replaces SNS's default one): CloudWatch alarms of this account may publish,
 * and nothing reaches the topic except over TLS. The account's own principals publish through their IAM
 * policies (the job-events handler's role names this topic).
 */
export function alertsTopicPolicy(topicArn: string): PolicyDocument {
    return policyDocument([cloudWatchAlarmsPublishStatement(topicArn), denyInsecureTopicTransport(topicArn)]);
}

/** CloudWatch alarms of the topic's account (and only those) may publish to it. */
export function cloudWatchAlarmsPublishStatement(topicArn: string): PolicyStatement {
    const [, partition, , region, account] = topicArn.split(":");
    if (!/^\d{12}$/.test(account ?? "")) throw new Error(`alertsTopicPolicy: ${JSON.stringify(topicArn)} is not a topic ARN`);
    return {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` } },
    };
}
