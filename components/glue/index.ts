/** The glue components. */
export * from "./glueEnvironment";
export * from "./glueEtlJob";
