/** The delivery components. */
export * from "./deployRoles";
export * from "./glueTestRole";
export * from "./pipelineCi";
export * from "./pulumiOidcProvider";
export * from "./smokeCheck";
export * from "./stackDeployment";
