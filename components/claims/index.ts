/** The claims components. */
export * from "./claimsBucket";
export * from "./claimsPipeline";
export * from "./claimsWarehouse";
export * from "./claimsWarehouseAccess";
