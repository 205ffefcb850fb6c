/**
 * Entry point of the Pulumi program: `pulumi up --stack dev|prod`. The stack's configuration
 * (Pulumi.<stack>.yaml) is validated first; errors name the key to fix. The stack outputs are those of
 * the composition (stacks/workload.ts), among them `artifacts`, the promotion contract prod reads from dev.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildStack } from "./stacks";

export = buildStack(pulumi.getStack(), pulumi.runtime.allConfig());
