/**
 * Every component, by concern (the folders are the type tokens' modules; docs/architecture.md draws the house).
 * Reusable building blocks: storage, tracking, glue, compute, messaging, monitoring, analytics, iam.
 * Flow-specific: claims (the claims flow), workflow (the medallion flow's Step Functions workflow).
 * Delivery: delivery (deploy roles, OIDC, Pulumi Deployments, CI, the test role, the smoke check).
 */
export * from "./analytics";
export * from "./claims";
export * from "./compute";
export * from "./delivery";
export * from "./glue";
export * from "./iam";
export * from "./messaging";
export * from "./monitoring";
export * from "./storage";
export * from "./tracking";
export * from "./workflow";
