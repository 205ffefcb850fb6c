/** The workflow components. */
export * from "./medallionWorkflow";
export * from "./stateMachineDefinition";
