/**
 * The DynamoDB table that tracks every file through the pipeline (the requirements' `etl-pipeline-metadata`).
 * The record's attributes and status values are the contract in the shared context; only keys and
 * indexed attributes are declared here, because DynamoDB is schemaless for everything else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Partition key: lowercase hex SHA-256 of `${bucket}/${key}#${versionId ?? etag}`. */
export const FILE_ID_ATTRIBUTE = "file_id";
/** GSI for "which files are in status X, oldest first" (stuck claims, failures to replay). */
export const STATUS_INDEX_NAME = "by-status";
export const STATUS_ATTRIBUTE = "processing_status";
export const UPDATED_AT_ATTRIBUTE = "updated_at";

const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;

/** Default table name for a stage: `etl-pipeline-metadata-{stage}`. */
export function metadataTableName(stage: string): string {
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(stage)) {
        throw new Error(`ProcessingMetadataTable: stage ${JSON.stringify(stage)} is invalid; use lowercase letters, digits and hyphens`);
    }
    return `etl-pipeline-metadata-${stage}`;
}

/** Throws unless `name` is a valid DynamoDB table name (3-255 of letters, digits, `_ . -`). */
export function validateTableName(name: string): void {
    if (!TABLE_NAME_PATTERN.test(name)) {
        throw new Error(`ProcessingMetadataTable: tableName ${JSON.stringify(name)} is invalid; DynamoDB allows 3-255 letters, digits, '_', '.', '-'`);
    }
}

/** The key schema as plain data (attributes, table key, GSI): what the table and its tests agree on. */
export function metadataTableSchema() {
    return {
        hashKey: FILE_ID_ATTRIBUTE,
        attributes: [
            { name: FILE_ID_ATTRIBUTE, type: "S" },
            { name: STATUS_ATTRIBUTE, type: "S" },
            { name: UPDATED_AT_ATTRIBUTE, type: "S" },
        ],
        globalSecondaryIndexes: [
            {
                name: STATUS_INDEX_NAME,
                keySchemas: [
                    { attributeName: STATUS_ATTRIBUTE, keyType: "HASH" },
                    { attributeName: UPDATED_AT_ATTRIBUTE, keyType: "RANGE" },
                ],
                // ALL: the replay and monitoring queries read whole records; the table is small.
                projectionType: "ALL",
            },
        ],
    };
}

/** ARN of an index of a table (what an IAM statement for Query on the index names). */
export const indexArn = (tableArn: string, index: string = STATUS_INDEX_NAME): string => `${tableArn}/index/${index}`;

export interface ProcessingMetadataTableArgs {
    /** Deployment stage; names the table `etl-pipeline-metadata-{stage}` unless `tableName` is given. */
    readonly stage: string;
    /** Explicit table name. @default `etl-pipeline-metadata-{stage}` */
    readonly tableName?: string;
    /** Customer-managed KMS key for encryption at rest. @default an AWS owned key */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** DynamoDB deletion protection (the stack turns it on in prod). @default false */
    readonly deletionProtection?: boolean;
    /**
     * Whether `pulumi destroy` may delete the table. False keeps it (`retainOnDelete`): the records are the
     * audit trail of what was processed. @default false
     */
    readonly allowDestroy?: boolean;
    /** Name of a numeric epoch-seconds attribute after which DynamoDB deletes a record. @default no TTL */
    readonly ttlAttribute?: string;
    /** Days of point-in-time recovery (1-35). @default 35 */
    readonly pointInTimeRecoveryDays?: number;
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * On-demand table keyed by `file_id`, with the `by-status` GSI, point-in-time recovery, and encryption
 * with the given key (or AWS owned). On-demand because the load is bursty (uploads come in batches) and
 * small, where provisioned capacity would either throttle the trigger or cost money idle.
 */
export class ProcessingMetadataTable extends pulumi.ComponentResource {
    public readonly table: aws.dynamodb.Table;
    public readonly tableName: pulumi.Output<string>;
    public readonly tableArn: pulumi.Output<string>;
    /** ARN of the `by-status` index. */
    public readonly statusIndexArn: pulumi.Output<string>;

    constructor(name: string, args: ProcessingMetadataTableArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("glue-pipeline:tracking:ProcessingMetadataTable", name, {}, opts);

        // The stage is validated even when a name is given: it is part of the contract with the stack.
        const defaultName = metadataTableName(args.stage);
        const tableName = args.tableName ?? defaultName;
        validateTableName(tableName);
        if (args.ttlAttribute !== undefined) {
            if (!ATTRIBUTE_NAME_PATTERN.test(args.ttlAttribute)) throw new Error(`ProcessingMetadataTable: ttlAttribute ${JSON.stringify(args.ttlAttribute)} is not a valid attribute name`);
            const keyAttributes = metadataTableSchema().attributes.map((a) => a.name);
            if (keyAttributes.includes(args.ttlAttribute)) {
                throw new Error(`ProcessingMetadataTable: ttlAttribute ${args.ttlAttribute} is a string key attribute; TTL needs a numeric attribute of its own`);
            }
        }
        const pitrDays = args.pointInTimeRecoveryDays ?? 35;
        if (!Number.isInteger(pitrDays) || pitrDays < 1 || pitrDays > 35) {
            throw new Error(`ProcessingMetadataTable: pointInTimeRecoveryDays must be a whole number from 1 to 35, got ${pitrDays}`);
        }

        const schema = metadataTableSchema();
        this.table = new aws.dynamodb.Table(
            `${name}-table`,
            {
                name: tableName,
                billingMode: "PAY_PER_REQUEST",
                hashKey: schema.hashKey,
                attributes: schema.attributes,
                globalSecondaryIndexes: schema.globalSecondaryIndexes,
                pointInTimeRecovery: { enabled: true, recoveryPeriodInDays: pitrDays },
                serverSideEncryption:
                    args.kmsKeyArn !== undefined ? { enabled: true, kmsKeyArn: args.kmsKeyArn } : { enabled: false },
                deletionProtectionEnabled: args.deletionProtection ?? false,
                ...(args.ttlAttribute !== undefined ? { ttl: { enabled: true, attributeName: args.ttlAttribute } } : {}),
                tags: args.tags,
            },
            { parent: this, retainOnDelete: !(args.allowDestroy ?? false) },
        );
        this.tableName = this.table.name;
        this.tableArn = this.table.arn;
        this.statusIndexArn = this.table.arn.apply((arn) => indexArn(arn));

        this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn, statusIndexArn: this.statusIndexArn });
    }
}
