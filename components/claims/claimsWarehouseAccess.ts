/**
 * What the claims warehouse (ClaimsWarehouse) adds to the account's access rules, for an account whose
 * stacks enable it, and only then: the deploy role's statements to manage the VPC and Redshift Serverless,
 * the workload boundary's statements for the load function's Data API calls, and the service principals the
 * deploy role may pass the COPY role to. components/delivery/deployRoles.ts and the bootstrap add them when the
 * bootstrap's configuration says the account runs the warehouse; accounts that do not keep today's rules.
 *
 * Scoping: EC2 and Redshift Serverless resources have generated ids in their ARNs (`vpc-…`, `namespace/<uuid>`),
 * so they are scoped by the Project tag, as the KMS keys are: creation only with the tag in the request
 * (the provider's default tags), everything else only on resources carrying it. Describe/List calls have no
 * resource type and are limited to the stack's region.
 */
import type { PolicyStatement } from "../iam/iamPolicies";

/** What the statements are scoped to (a subset of deployRoles' WorkloadScope). */
export interface WarehouseAccessScope {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    /** Value of the Project tag. */
    readonly project: string;
}

const PROJECT_TAG = "Project";

/** Services the deploy role passes the COPY role to (the namespace's IAM roles). */
export const WAREHOUSE_SERVICE_PRINCIPALS: readonly string[] = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"];

/**
 * The warehouse's resource types and the deploy statement that manages each. `awsx:ec2:Vpc` is a component:
 * it calls no AWS API itself; its children are the EC2 types listed.
 */
export const WAREHOUSE_DEPLOY_COVERAGE: ReadonlyArray<readonly [RegExp, string]> = [
    [/^awsx:ec2:Vpc$/, "WarehouseNetworkManage"],
    [/^aws:ec2\/(vpc|subnet|routeTable|routeTableAssociation|internetGateway|internetGatewayAttachment|vpcEndpoint|securityGroup|defaultSecurityGroup|defaultRouteTable|defaultNetworkAcl):/, "WarehouseNetworkManage"],
    [/^aws:redshiftserverless\/(namespace|workgroup):/, "WarehouseRedshiftManage"],
];

/** Reads without a resource type in IAM (an ARN would grant nothing), made while creating and refreshing the network. */
export const WAREHOUSE_RESOURCELESS_READS: readonly string[] = [
    "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeInternetGateways", "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkAcls",
    "ec2:DescribePrefixLists", "ec2:DescribeAvailabilityZones", "ec2:DescribeAccountAttributes", "ec2:DescribeTags",
    "redshift-serverless:ListNamespaces", "redshift-serverless:ListWorkgroups",
];

/** EC2 actions that create the network, each tagged on creation. */
const EC2_CREATE = ["ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway", "ec2:CreateVpcEndpoint", "ec2:CreateSecurityGroup"];

/** The deploy role's statements for a warehouse account. */
export function warehouseDeployStatements(s: WarehouseAccessScope): PolicyStatement[] {
    const ec2 = `arn:${s.partition}:ec2:${s.region}:${s.accountId}:*`;
    const redshift = [`arn:${s.partition}:redshift-serverless:${s.region}:${s.accountId}:namespace/*`, `arn:${s.partition}:redshift-serverless:${s.region}:${s.accountId}:workgroup/*`];
    const requestTag = { [`aws:RequestTag/${PROJECT_TAG}`]: s.project };
    const resourceTag = { [`aws:ResourceTag/${PROJECT_TAG}`]: s.project };
    const inRegion = { "aws:RequestedRegion": s.region };
    return [
        {
            // The reads the provider makes that have no resource type: "*" only, in the stack's region.
            Sid: "WarehouseReads",
            Effect: "Allow",
            Action: [...WAREHOUSE_RESOURCELESS_READS],
            Resource: "*",
            Condition: { StringEquals: inRegion },
        },
        { Sid: "WarehouseNetworkCreate", Effect: "Allow", Action: EC2_CREATE, Resource: ec2, Condition: { StringEquals: requestTag } },
        // Tags only as part of those creations (the provider's default tags), never added to another's resource.
        { Sid: "WarehouseNetworkTagOnCreate", Effect: "Allow", Action: ["ec2:CreateTags"], Resource: ec2, Condition: { StringEquals: { "ec2:CreateAction": EC2_CREATE.map((a) => a.slice(4)) } } },
        {
            Sid: "WarehouseNetworkManage",
            Effect: "Allow",
            Action: [
                "ec2:DescribeVpcAttribute", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
                "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
                "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
                "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints",
                "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                "ec2:CreateTags", "ec2:DeleteTags",
            ],
            Resource: ec2,
            Condition: { StringEquals: resourceTag },
        },
        { Sid: "WarehouseRedshiftCreate", Effect: "Allow", Action: ["redshift-serverless:CreateNamespace", "redshift-serverless:CreateWorkgroup", "redshift-serverless:TagResource"], Resource: redshift, Condition: { StringEquals: requestTag } },
        {
            Sid: "WarehouseRedshiftManage",
            Effect: "Allow",
            Action: [
                "redshift-serverless:GetNamespace", "redshift-serverless:UpdateNamespace", "redshift-serverless:DeleteNamespace",
                "redshift-serverless:GetWorkgroup", "redshift-serverless:UpdateWorkgroup", "redshift-serverless:DeleteWorkgroup",
                "redshift-serverless:ListTagsForResource", "redshift-serverless:TagResource", "redshift-serverless:UntagResource",
            ],
            Resource: redshift,
            Condition: { StringEquals: resourceTag },
        },
        {
            // manageAdminPassword: Redshift creates and rotates the admin secret with the caller's permissions,
            // under its own name prefix `redshift!`.
            Sid: "WarehouseAdminSecret",
            Effect: "Allow",
            Action: [
                "secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret", "secretsmanager:RotateSecret",
                "secretsmanager:DeleteSecret", "secretsmanager:TagResource",
            ],
            Resource: `arn:${s.partition}:secretsmanager:${s.region}:${s.accountId}:secret:redshift!*`,
        },
        { Sid: "WarehouseRandomPassword", Effect: "Allow", Action: ["secretsmanager:GetRandomPassword"], Resource: "*", Condition: { StringEquals: inRegion } },
        {
            // The namespace and its secret are encrypted with the data-lake key: grants for Redshift and Secrets
            // Manager, made through those services only.
            Sid: "WarehouseKeyUse",
            Effect: "Allow",
            Action: ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey", "kms:RetireGrant"],
            Resource: `arn:${s.partition}:kms:${s.region}:${s.accountId}:key/*`,
            Condition: {
                StringEquals: {
                    ...resourceTag,
                    "kms:ViaService": ["redshift-serverless", "redshift", "secretsmanager"].map((svc) => `${svc}.${s.region}.amazonaws.com`),
                },
            },
        },
        {
            // Redshift's service-linked role, created on the account's first workgroup.
            Sid: "WarehouseServiceLinkedRole",
            Effect: "Allow",
            Action: ["iam:CreateServiceLinkedRole"],
            Resource: `arn:${s.partition}:iam::${s.accountId}:role/aws-service-role/redshift.amazonaws.com/AWSServiceRoleForRedshift`,
            Condition: { StringEquals: { "iam:AWSServiceName": "redshift.amazonaws.com" } },
        },
    ];
}

/** The workload boundary's statements for a warehouse account: the load function's Data API calls. */
export function warehouseBoundaryStatements(s: WarehouseAccessScope): PolicyStatement[] {
    const workgroups = `arn:${s.partition}:redshift-serverless:${s.region}:${s.accountId}:workgroup/*`;
    return [
        { Sid: "WarehouseLoads", Effect: "Allow", Action: ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement", "redshift-serverless:GetCredentials"], Resource: workgroups },
        // No resource type: the identity policy narrows them to the caller's own statements.
        { Sid: "WarehouseStatements", Effect: "Allow", Action: ["redshift-data:DescribeStatement", "redshift-data:CancelStatement"], Resource: "*", Condition: { StringEquals: { "aws:RequestedRegion": s.region } } },
    ];
}
