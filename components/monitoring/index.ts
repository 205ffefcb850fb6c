/** The monitoring components and their pure parts (alarm specs, alert policies, dashboards). */
export * from "./monitoredResources";
export * from "./alarms";
export * from "./alerts";
export * from "./dashboards";
export * from "./glueJobEventHandler";
export * from "./pipelineMonitoring";
