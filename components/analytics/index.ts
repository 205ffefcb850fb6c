/** The analytics components. */
export * from "./athenaWorkgroup";
