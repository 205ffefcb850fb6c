/**
 * The medallion flow's IAM policies (pure): what the ingestion function, the state machine, the schedule and
 * the crawler may each do, every grant on the one resource it needs (checked: no data-plane action on "*").
 */
import { parseArn } from "../glue/glueEnvironment";
import {
    PolicyDocument,
    PolicyStatement,
    cloudWatchLogsWriteStatement,
    glueJobRunStatement,
    kmsUseStatement,
    policyDocument,
    s3ReadStatements,
    s3WriteStatement,
    sqsSendMessageStatement,
    wildcardResourceViolations,
} from "../iam/iamPolicies";

export interface IngestPolicyInputs {
    readonly secretArn: string;
    readonly bucketArn: string;
    readonly rawPrefix: string;
}

/** What the ingestion function may do beyond its logs and key: read the one secret, put pages under raw/. */
export function ingestStatements(p: IngestPolicyInputs): PolicyStatement[] {
    return [
        { Sid: "ReadApiKey", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: p.secretArn },
        // Put only: no list, no get, no delete — the function writes pages and needs nothing else.
        s3WriteStatement(p.bucketArn, [p.rawPrefix], {}, "WriteBronze"),
    ];
}

export interface StateMachinePolicyInputs {
    readonly functionArn: string;
    readonly jobArn: string;
    readonly crawlerArn: string;
    readonly topicArn: string;
    readonly kmsKeyArn: string;
}

/**
 * The state machine role: invoke the one function, run and watch the one job (.sync polls GetJobRun and
 * stops the run with BatchStopJobRun when the task times out), start and read the one crawler, publish to
 * the one topic (encrypted: key use), deliver its logs and traces (these actions have no resource ARNs).
 */
export function stateMachinePolicy(p: StateMachinePolicyInputs): PolicyDocument {
    const doc = policyDocument([
        { Sid: "InvokeIngestion", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [p.functionArn, `${p.functionArn}:*`] },
        glueJobRunStatement(p.jobArn, ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"], "RunMedallionJob"),
        glueJobRunStatement(p.crawlerArn, ["glue:StartCrawler", "glue:GetCrawler"], "RunCrawler"),
        { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: p.topicArn },
        kmsUseStatement(p.kmsKeyArn, "encryptDecrypt", { sid: "EncryptNotifications" }),
        {
            Sid: "DeliverLogs",
            Effect: "Allow",
            Action: [
                "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
                "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
            ],
            Resource: "*",
        },
        { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], Resource: "*" },
    ]);
    assertNoWildcards(doc, "state machine");
    return doc;
}

/** The schedule's role: start executions of the one state machine, nothing else; send failures to its DLQ. */
export function schedulerPolicy(p: { stateMachineArn: string; deadLetterQueueArn: string; kmsKeyArn: string }): PolicyDocument {
    const doc = policyDocument([
        { Sid: "StartWorkflow", Effect: "Allow", Action: ["states:StartExecution"], Resource: p.stateMachineArn },
        sqsSendMessageStatement(p.deadLetterQueueArn, "SendToDeadLetterQueue"),
        kmsUseStatement(p.kmsKeyArn, "encryptDecrypt", { sid: "EncryptDeadLetters" }),
    ]);
    assertNoWildcards(doc, "scheduler");
    return doc;
}

export interface CrawlerPolicyInputs {
    readonly databaseArn: string;
    readonly bucketArn: string;
    readonly goldPrefix: string;
    readonly kmsKeyArn: string;
    readonly logGroupArn: string;
    /** The group the crawler logs to under its security configuration ({@link encryptedCrawlerLogGroupName}). */
    readonly encryptedLogGroupArn?: string;
}

/**
 * The group a crawler with a security configuration that encrypts CloudWatch logs writes to, as AWS names
 * it: `/aws-glue/crawlers-role<role path><role name>-<security configuration>` (instead of the account-wide
 * `/aws-glue/crawlers`). The name is AWS's convention, not provable offline.
 */
export function encryptedCrawlerLogGroupName(securityConfigurationName: string, roleName: string, rolePath = "/"): string {
    if (!rolePath.startsWith("/") || !rolePath.endsWith("/")) throw new Error(`encryptedCrawlerLogGroupName: role path must start and end with '/' (got ${rolePath})`);
    return `/aws-glue/crawlers-role${rolePath}${roleName}-${securityConfigurationName}`;
}

/** The crawler's role: read gold, decrypt it, maintain tables and partitions of the one database, log. */
export function crawlerPolicy(p: CrawlerPolicyInputs): PolicyDocument {
    const { partition, region, account, resource } = parseArn(p.databaseArn);
    const database = resource.replace(/^database\//, "");
    const glueArn = (r: string) => `arn:${partition}:glue:${region}:${account}:${r}`;
    const doc = policyDocument([
        ...s3ReadStatements(p.bucketArn, [p.goldPrefix], "ReadGold"),
        kmsUseStatement(p.kmsKeyArn, "decrypt", { sid: "DecryptGold" }),
        {
            Sid: "MaintainCatalog",
            Effect: "Allow",
            Action: [
                "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
                "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition", "glue:BatchCreatePartition",
                "glue:UpdatePartition", "glue:BatchUpdatePartition",
            ],
            Resource: [glueArn("catalog"), glueArn(`database/${database}`), glueArn(`table/${database}/*`)],
        },
        { ...cloudWatchLogsWriteStatement(p.logGroupArn), Sid: "WriteCrawlerLogs" },
        ...(p.encryptedLogGroupArn
            ? [
                  { ...cloudWatchLogsWriteStatement(p.encryptedLogGroupArn), Sid: "WriteEncryptedCrawlerLogs" },
                  // Glue associates the security configuration's key with the group when it starts logging.
                  { Sid: "EncryptCrawlerLogs", Effect: "Allow" as const, Action: ["logs:AssociateKmsKey"], Resource: p.encryptedLogGroupArn },
              ]
            : []),
    ]);
    assertNoWildcards(doc, "crawler");
    return doc;
}

function assertNoWildcards(doc: PolicyDocument, what: string): void {
    const violations = wildcardResourceViolations(doc);
    if (violations.length > 0) throw new Error(`MedallionWorkflow: ${what} policy grants data-plane actions on "*": ${JSON.stringify(violations)}`);
}
