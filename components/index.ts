export * from "./dataLakeBuckets";
export * from "./glueEnvironment";
export * from "./glueEtlJob";
export * from "./iamPolicies";
export * from "./lambdaBundle";
export * from "./processingMetadataTable";
export * from "./s3TriggeredLambda";
