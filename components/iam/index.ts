/** The iam components. */
export * from "./iamPolicies";
