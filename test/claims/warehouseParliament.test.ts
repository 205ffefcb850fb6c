/**
 * parliament (AWS's IAM linter, from PyPI) on every policy the claims warehouse brings: the COPY role's, the
 * load function's, and the deploy-role and boundary statements for warehouse accounts. No finding but the two
 * reviewed below: wrong resource types for an action (RESOURCE_MISMATCH), "*" where a resource type exists
 * (RESOURCE_STAR), unknown actions or condition keys and malformed ARNs all fail it. (It removed a statement
 * granting security-group egress on the AWS prefix list: those actions take no prefix-list resource.)
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { copyRoleStatements, loadFunctionStatements } from "../../components/claims/claimsWarehouse";
import { warehouseBoundaryStatements, warehouseDeployStatements } from "../../components/claims/claimsWarehouseAccess";
import { policyDocument } from "../../components/iam/iamPolicies";

const ROOT = path.resolve(__dirname, "..", "..");
const A = "111111111111";
const R = "eu-west-1";
const BUCKET = `arn:aws:s3:::glue-claims-dev-${A}`;
const KEY = `arn:aws:kms:${R}:${A}:key/k`;

/** Permissions-management findings reviewed and accepted, with why. */
const ACCEPTED: Record<string, string> = {
    "deploy/WarehouseKeyUse/PERMISSIONS_MANAGEMENT_ACTIONS": "kms:CreateGrant: Redshift Serverless and Secrets Manager encrypt with the data-lake key through grants the deployer creates; only via those services, only on the project's keys",
    "deploy/WarehouseServiceLinkedRole/PERMISSIONS_MANAGEMENT_ACTIONS": "iam:CreateServiceLinkedRole: Redshift's own service-linked role, by its fixed ARN and service name",
};

describe("claims warehouse policies under parliament", function () {
    this.timeout(120_000);

    it("raise no finding but the reviewed ones", async () => {
        const scope = { partition: "aws", region: R, accountId: A, project: "glue-data-pipeline" };
        const docs = {
            copy: policyDocument(copyRoleStatements({ bucketArn: BUCKET, kmsKeyArn: KEY, region: R })),
            load: policyDocument(
                loadFunctionStatements({
                    bucketArn: BUCKET,
                    workgroupArn: `arn:aws:redshift-serverless:${R}:${A}:workgroup/0000-1111`,
                    jobArn: `arn:aws:glue:${R}:${A}:job/healthcare-claims-dev-etl`,
                    tableArn: `arn:aws:dynamodb:${R}:${A}:table/etl-pipeline-metadata-dev`,
                    errorTopicArn: `arn:aws:sns:${R}:${A}:healthcare-claims-dev-errors`,
                    kmsKeyArn: KEY,
                }),
            ),
            deploy: policyDocument(warehouseDeployStatements(scope)),
            boundary: policyDocument(warehouseBoundaryStatements(scope)),
        };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warehouse-parliament-"));
        const file = path.join(dir, "graph.json");
        const resources = Object.entries(docs).map(([name, doc]) => ({ type: "aws:iam/policy:Policy", name, inputs: { policy: JSON.stringify(doc) } }));
        fs.writeFileSync(file, JSON.stringify({ project: "glue-data-pipeline", stack: "warehouse", resources }));
        try {
            const { stdout } = await promisify(execFile)(path.join(ROOT, ".venv/bin/python"), [path.join(ROOT, "test/policy/parliament_findings.py"), file], { cwd: ROOT });
            const rows = stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
            assert.equal(rows.find((r) => "analysed" in r)?.analysed, 4);
            const findings = rows.filter((r) => !("analysed" in r)).map((r) => `${r.resource}/${r.sid}/${r.issue}${r.action ? ` ${r.action}` : ""}`);
            assert.deepEqual(findings.sort(), Object.keys(ACCEPTED).sort());
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
