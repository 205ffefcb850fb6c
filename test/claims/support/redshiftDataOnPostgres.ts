/**
 * A stand-in for the Redshift Data API on loopback, for the warehouse load's tests: it speaks the API's wire
 * protocol (JSON 1.1, `X-Amz-Target: RedshiftData.<Operation>`, errors as `__type`), so the real
 * @aws-sdk/client-redshift-data client, with its serialisation, error parsing and retries, talks to it; and
 * it runs each batch's SQL on PostgreSQL (PGlite: PostgreSQL compiled to WebAssembly, in-process), in one
 * transaction, as BatchExecuteStatement does on Redshift.
 *
 * Why not the emulator: moto (5.1) answers ExecuteStatement and DescribeStatement without running any SQL (a
 * statement stays STARTED forever) and does not implement BatchExecuteStatement at all.
 *
 * What is emulated rather than real, and how:
 * - COPY (Redshift's, from S3): the statement is parsed; the manifest is read from the S3 emulator (moto);
 *   every entry must exist there with the `content_length` the manifest states (Redshift refuses a mandatory
 *   entry that is missing, and Parquet entries without the length); the rows of each Parquet object come from
 *   `parquetRows` (Node reads no Parquet), inserted into the staging table. The IAM role is not assumed.
 * - Sessions: each batch is its own session on Redshift (its temp tables end with it); here `DISCARD TEMP`
 *   after each batch.
 * - Timing and refusals, scripted: `pollsBeforeDone` DescribeStatement answers of STARTED before the final
 *   status; `refuse(n, errorType)` refuses the next n submissions.
 * - ClientToken: a repeated token returns the first batch's id without running it again (the API's
 *   idempotency promise).
 */
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PGlite } from "@electric-sql/pglite";

export interface SubStatementResult {
    readonly Id: string;
    readonly QueryString: string;
    readonly Status: "FINISHED" | "FAILED" | "ABORTED";
    readonly ResultRows: number;
    readonly Error?: string;
}

interface Batch {
    readonly id: string;
    readonly workgroupName: string;
    readonly database: string;
    readonly sqls: readonly string[];
    readonly status: "FINISHED" | "FAILED";
    readonly error?: string;
    readonly subStatements: readonly SubStatementResult[];
    describes: number;
}

export interface Call {
    readonly operation: string;
    readonly input: Record<string, any>;
}

const COPY = /^COPY (\w+) FROM '(s3:\/\/([^/']+)\/([^']+))' IAM_ROLE '([^']+)' FORMAT AS PARQUET MANIFEST$/;

export class RedshiftDataOnPostgres {
    /** Rows of each Parquet object, by its S3 URI: what COPY would read from the file. */
    readonly parquetRows = new Map<string, Record<string, unknown>[]>();
    /** Every request, in order. */
    readonly calls: Call[] = [];
    /** DescribeStatement answers STARTED this many times per batch before its final status. */
    pollsBeforeDone = 0;
    private refusals: string[] = [];
    private readonly batches = new Map<string, Batch>();
    private readonly tokens = new Map<string, string>();
    private server: http.Server | undefined;

    /**
     * @param db the PostgreSQL to run on; one per test file is enough (starting PGlite takes seconds): call
     *           `resetDatabase` between tests.
     */
    constructor(
        private readonly s3: S3Client,
        readonly workgroupName: string,
        readonly database: string,
        readonly db: PGlite,
    ) {}

    /** Drops what the loads created (the warehouse table), as a fresh workgroup would have none. */
    static async resetDatabase(db: PGlite, table: string): Promise<void> {
        await db.exec(`DROP TABLE IF EXISTS ${table}; DISCARD TEMP;`);
    }

    /** Refuses the next `n` submissions with `errorType` (HTTP 400, as the API sends its exceptions). */
    refuse(n: number, errorType = "ActiveStatementsExceededException"): void {
        this.refusals.push(...Array.from({ length: n }, () => errorType));
    }

    /** How many batches ran their SQL. */
    get batchesRun(): number {
        return this.batches.size;
    }

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", () => {
                const operation = String(req.headers["x-amz-target"] ?? "").replace(/^RedshiftData\./, "");
                this.handle(operation, body ? JSON.parse(body) : {})
                    .then(([status, payload]) => {
                        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
                        res.end(JSON.stringify(payload));
                    })
                    .catch((err: unknown) => {
                        res.writeHead(500, { "content-type": "application/x-amz-json-1.1" });
                        res.end(JSON.stringify({ __type: "InternalServerException", message: String(err) }));
                    });
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }

    private async handle(operation: string, input: Record<string, any>): Promise<[number, unknown]> {
        this.calls.push({ operation, input });
        const now = Date.now() / 1000;
        switch (operation) {
            case "BatchExecuteStatement": {
                const refusal = this.refusals.shift();
                if (refusal) return [400, { __type: refusal, message: `${refusal} (scripted)` }];
                // Only the API's default, one transaction, is emulated.
                if (input.ExecutionMode !== undefined && input.ExecutionMode !== "TRANSACTION") {
                    return [400, { __type: "ValidationException", message: `ExecutionMode ${input.ExecutionMode} is not emulated here` }];
                }
                if (input.WorkgroupName !== this.workgroupName || input.Database !== this.database) {
                    return [400, { __type: "ValidationException", message: `no workgroup ${input.WorkgroupName} with database ${input.Database}` }];
                }
                const known = input.ClientToken ? this.tokens.get(input.ClientToken) : undefined;
                const id = known ?? randomUUID();
                if (!known) {
                    if (input.ClientToken) this.tokens.set(input.ClientToken, id);
                    this.batches.set(id, await this.run(id, input));
                }
                return [200, { Id: id, CreatedAt: now, Database: input.Database, WorkgroupName: input.WorkgroupName }];
            }
            case "DescribeStatement": {
                const batch = this.batches.get(input.Id);
                if (!batch) return [400, { __type: "ResourceNotFoundException", message: `Query does not exist: ${input.Id}` }];
                batch.describes++;
                const done = batch.describes > this.pollsBeforeDone;
                return [
                    200,
                    {
                        Id: batch.id,
                        Status: done ? batch.status : "STARTED",
                        ...(done && batch.error ? { Error: batch.error } : {}),
                        Database: batch.database,
                        WorkgroupName: batch.workgroupName,
                        CreatedAt: now,
                        UpdatedAt: now,
                        Duration: done ? 1_500_000_000 : -1,
                        HasResultSet: false,
                        ...(done ? { SubStatements: batch.subStatements.map((s) => ({ ...s, CreatedAt: now, UpdatedAt: now, HasResultSet: false })) } : {}),
                    },
                ];
            }
            default:
                return [400, { __type: "ValidationException", message: `${operation} is not emulated here` }];
        }
    }

    /** Runs a batch as one transaction; the first failure rolls everything back. */
    private async run(id: string, input: Record<string, any>): Promise<Batch> {
        const sqls: string[] = input.Sqls;
        const results: SubStatementResult[] = [];
        let error: string | undefined;
        await this.db.exec("BEGIN");
        for (const [i, sql] of sqls.entries()) {
            const subId = `${id}:${i + 1}`;
            if (error !== undefined) {
                results.push({ Id: subId, QueryString: sql, Status: "ABORTED", ResultRows: -1 });
                continue;
            }
            try {
                const rows = COPY.test(sql) ? await this.copy(sql) : ((await this.db.query(sql)).affectedRows ?? 0);
                results.push({ Id: subId, QueryString: sql, Status: "FINISHED", ResultRows: rows });
            } catch (err) {
                error = err instanceof Error ? err.message : String(err);
                results.push({ Id: subId, QueryString: sql, Status: "FAILED", ResultRows: -1, Error: error });
            }
        }
        await this.db.exec(error === undefined ? "COMMIT" : "ROLLBACK");
        // The batch's session ends: its temp tables go with it.
        await this.db.exec("DISCARD TEMP");
        return { id, workgroupName: input.WorkgroupName, database: input.Database, sqls, status: error === undefined ? "FINISHED" : "FAILED", error, subStatements: results, describes: 0 };
    }

    private async copy(sql: string): Promise<number> {
        const [, table, , bucket, key] = COPY.exec(sql)!;
        const manifest = JSON.parse(await (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
        let loaded = 0;
        for (const entry of manifest.entries as { url: string; mandatory: boolean; meta?: { content_length?: number } }[]) {
            if (entry.meta?.content_length === undefined) throw new Error(`COPY: manifest entry ${entry.url} has no meta.content_length (required for Parquet)`);
            const [, b, k] = /^s3:\/\/([^/]+)\/(.+)$/.exec(entry.url)!;
            const head = await this.s3.send(new HeadObjectCommand({ Bucket: b, Key: k })).catch(() => undefined);
            if (!head) {
                if (entry.mandatory) throw new Error(`COPY: mandatory manifest entry ${entry.url} does not exist`);
                continue;
            }
            if (head.ContentLength !== entry.meta.content_length) throw new Error(`COPY: ${entry.url} is ${head.ContentLength} bytes, the manifest says ${entry.meta.content_length}`);
            for (const row of this.parquetRows.get(entry.url) ?? []) {
                const columns = Object.keys(row);
                await this.db.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`, Object.values(row));
                loaded++;
            }
        }
        return loaded;
    }
}
