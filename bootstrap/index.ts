/**
 * Entry point of the bootstrap project: `pulumi up -C bootstrap --stack pipeline|dev|prod`. The program lives
 * in stacks/bootstrap.ts (type-checked and tested with the rest); it reads the workload stack files and the
 * ESC definitions in deploy/esc/ from this repository, so run it from a checkout.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildBootstrap } from "../stacks/bootstrap";

export = buildBootstrap(pulumi.getStack(), pulumi.runtime.allConfig(), pulumi.getOrganization());
