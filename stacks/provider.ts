/**
 * The per-account AWS provider every resource of a stack is created through.
 *
 * `allowedAccountIds` makes a deploy with credentials for the wrong account fail before it touches
 * anything; `defaultTags` puts the four required tags on every taggable resource without each component
 * having to remember them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

export function createAwsProvider(config: StackConfig, opts: pulumi.CustomResourceOptions = {}): aws.Provider {
    return new aws.Provider(
        `${config.stackName}-aws`,
        {
            region: config.region as aws.Region,
            allowedAccountIds: [config.accountId],
            assumeRoles: config.deployRoleArn
                ? [{ roleArn: config.deployRoleArn, sessionName: `pulumi-${config.stackName}`.slice(0, 64) }]
                : undefined,
            defaultTags: { tags: { ...config.tags } },
        },
        opts,
    );
}
