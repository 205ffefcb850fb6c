/**
 * The glue-data-pipeline policy pack: `pulumi preview|up --policy-pack policy`. Every policy is mandatory,
 * so a violation fails the preview of a pull request (.github/workflows/preview.yml) and the pre-run check
 * of a Pulumi Deployments update (components/delivery/stackDeployment.ts) before anything changes.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("glue-data-pipeline", { policies: POLICIES, enforcementLevel: "mandatory" });
