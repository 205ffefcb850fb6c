/** The monitoring components. */
export * from "./glueJobEventHandler";
export * from "./pipelineMonitoring";
