/**
 * The warehouse in the cost model: RPU-hours of the loads at the workgroup's base capacity (billed per second,
 * at least 60 s each), managed storage, and no NAT gateway; nothing for a stack without a workgroup.
 */
import * as assert from "node:assert/strict";
import { estimate, inventoryOf, PRICES_EU_WEST_1, REQUIRED_WORKLOADS } from "../../scripts/costModel";

const workgroup = (baseCapacity?: number) => ({
    type: "aws:redshiftserverless/workgroup:Workgroup",
    name: "claims-warehouse-workgroup",
    inputs: { workgroupName: "healthcare-claims-dev", ...(baseCapacity !== undefined ? { baseCapacity } : {}) },
});

describe("claims warehouse cost", () => {
    it("costs nothing where there is no workgroup (dev and prod as configured)", () => {
        const est = estimate(inventoryOf([]), REQUIRED_WORKLOADS.dev);
        assert.equal(est.byService["Redshift Serverless"], 0);
        assert.ok(!est.lines.some((l) => l.service === "Redshift Serverless"));
    });

    it("bills each load at base capacity for at least a minute, and the storage", () => {
        const w = { ...REQUIRED_WORKLOADS.dev, warehouseLoadSeconds: 20, warehouseStorageGb: 50 };
        const est = estimate(inventoryOf([workgroup(8)]), w);
        const lines = est.lines.filter((l) => l.service === "Redshift Serverless");
        const loads = lines.find((l) => l.item.endsWith("loads at base capacity"))!;
        // 10 loads × 60 s (the minimum, not 20 s) × 8 RPU = 1.333 RPU-hours.
        assert.ok(Math.abs(loads.quantity - (10 * 60 * 8) / 3600) < 1e-4); // lines carry 4 decimals
        assert.ok(Math.abs(loads.cost - ((10 * 60 * 8) / 3600) * PRICES_EU_WEST_1.redshiftServerless.rpuHour) < 1e-4);
        const storage = lines.find((l) => l.item.endsWith("managed storage"))!;
        assert.equal(storage.quantity, 50);
        assert.equal(lines.find((l) => l.item.endsWith("network"))?.cost, 0);
        assert.ok(Math.abs(est.byService["Redshift Serverless"] - (loads.cost + storage.cost)) < 1e-3);
    });

    it("takes Redshift Serverless' default of 128 RPU when the workgroup names no base capacity", () => {
        assert.deepEqual(inventoryOf([workgroup()]).warehouses, [{ name: "healthcare-claims-dev", baseCapacity: 128 }]);
    });
});
