/** The storage components. */
export * from "./hardenedBucket";
export * from "./dataLakeBuckets";
