/** The glue components: the catalog environment, and the ETL job with the modules it is built from. */
export * from "./glueEnvironment";
export * from "./glueEtlJob";
export * from "./jobArguments";
export * from "./jobCode";
export * from "./jobRole";
export * from "./jobSettings";
export * from "./zipArchive";
