/**
 * The values a user replaces when pointing this repository at their own accounts and organization (see
 * docs/deploy.md, "Point the repository at your accounts"), read from the files that hold them, so the
 * delivery tests keep passing after that edit.
 */
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const load = (file: string): any => yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8"));

const dev = load("Pulumi.dev.yaml").config;
const prod = load("Pulumi.prod.yaml").config;
const pipeline = load("bootstrap/Pulumi.pipeline.yaml").config;

export const DEV_ACCOUNT: string = dev["glue-data-pipeline:accountId"];
export const PROD_ACCOUNT: string = prod["glue-data-pipeline:accountId"];
export const PIPELINE_ACCOUNT: string = pipeline["glue-data-pipeline-bootstrap:accountId"];
export const REGION: string = dev["aws:region"];
/** The Pulumi organization: the one prod promotes from. */
export const ORG: string = prod["glue-data-pipeline:promotion"].fromStack.split("/")[0];
export const REPOSITORY: string = pipeline["glue-data-pipeline-bootstrap:githubRepository"];
