/** The storage components. */
export * from "./dataLakeBuckets";
