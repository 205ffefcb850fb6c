/** The workflow components and their pure parts (settings, policies, the state machine's definition). */
export * from "./medallionSettings";
export * from "./medallionPolicies";
export * from "./medallionWorkflow";
export * from "./stateMachineDefinition";
