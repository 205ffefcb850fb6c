/** The compute components. */
export * from "./lambdaBundle";
export * from "./lambdaFunction";
export * from "./lambdaFunctionResources";
export * from "./s3TriggeredLambda";
export * from "./triggerQueue";
export * from "./csvConverter";
export * from "./pythonPackage";
