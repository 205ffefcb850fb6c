/** The tracking components. */
export * from "./processingMetadataTable";
