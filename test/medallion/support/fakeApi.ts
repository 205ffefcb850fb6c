/**
 * A paginated JSON API on loopback (node:http) that misbehaves on demand: rate limits with Retry-After,
 * server errors, answers slower than the client's timeout, garbage bodies. Every request is logged with
 * the time it arrived, so tests can check what the client really did (how long it waited, which key it
 * sent, which pages it asked for how often).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
    /** Answer this status (e.g. 429, 500, 503) with an optional Retry-After header value. */
    | { readonly status: number; readonly retryAfter?: string; readonly body?: string }
    /** Answer normally, but only after this long (longer than the client's timeout = a "slow" answer). */
    | { readonly delayMs: number }
    /** Answer 200 with this body (e.g. not JSON). */
    | { readonly garbage: string };

export interface LoggedRequest {
    readonly at: number;
    readonly path: string;
    readonly query: Record<string, string>;
    readonly apiKey: string | undefined;
    /** Zero-based page index the request asked for. */
    readonly page: number;
    /** What the server did: "ok", a status, "slow", "garbage". */
    readonly outcome: string;
}

export interface FakeApiOptions {
    /** The records the API serves, in order. */
    readonly records: readonly Record<string, unknown>[];
    /** The key it accepts in `x-api-key` (anything else: 401). */
    readonly apiKey: string;
    /** "cursor": `next_cursor` tokens; "link": relative `next` URLs. @default "cursor" */
    readonly pagination?: "cursor" | "link";
    /** Override the `next` link (e.g. to point it at another origin). */
    readonly nextLink?: (page: number) => string | undefined;
}

/** Opaque-looking cursors: page index, base64url. */
const cursorOf = (page: number) => Buffer.from(`page:${page}`).toString("base64url");
const pageOf = (cursor: string | undefined) => (cursor ? Number(Buffer.from(cursor, "base64url").toString().split(":")[1]) : 0);

export class FakeApi {
    readonly requests: LoggedRequest[] = [];
    private readonly faults = new Map<number, Fault[]>();
    private server: http.Server | undefined;
    private port = 0;
    private records: readonly Record<string, unknown>[];

    constructor(private readonly options: FakeApiOptions) {
        this.records = options.records;
    }

    /** The base URL of the endpoint (`http://127.0.0.1:<port>/v1/orders`). */
    get url(): string {
        return `http://127.0.0.1:${this.port}/v1/orders`;
    }

    /** The next requests for `page` (0-based) get these faults, one per request, before normal answers resume. */
    inject(page: number, ...faults: Fault[]): void {
        this.faults.set(page, [...(this.faults.get(page) ?? []), ...faults]);
    }

    /** Replaces the records served from now on (e.g. the API recovers with more data). */
    serve(records: readonly Record<string, unknown>[]): void {
        this.records = records;
    }

    /** The JSON text of page `page` at `limit`, exactly as served. */
    pageBody(page: number, limit: number): string {
        const slice = this.records.slice(page * limit, (page + 1) * limit);
        const more = (page + 1) * limit < this.records.length;
        const body: Record<string, unknown> = { data: slice, page: page + 1 };
        if (this.options.pagination === "link") {
            body.next = more ? (this.options.nextLink?.(page + 1) ?? `/v1/orders?limit=${limit}&cursor=${cursorOf(page + 1)}`) : null;
        } else {
            body.next_cursor = more ? cursorOf(page + 1) : null;
        }
        return JSON.stringify(body);
    }

    requestsFor(page: number): LoggedRequest[] {
        return this.requests.filter((r) => r.page === page);
    }

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => this.handle(req, res));
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.port = (this.server.address() as AddressInfo).port;
    }

    async stop(): Promise<void> {
        if (!this.server) return;
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server!.close(() => resolve()));
        this.server = undefined;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", `http://127.0.0.1:${this.port}`);
        const query = Object.fromEntries(url.searchParams.entries());
        const page = pageOf(query.cursor);
        const limit = Number(query.limit ?? "100");
        const apiKey = req.headers["x-api-key"] as string | undefined;
        const log = (outcome: string) => this.requests.push({ at: Date.now(), path: url.pathname, query, apiKey, page, outcome });
        // A client that gave up (timeout) leaves a socket that is gone by the time a slow answer is written.
        res.on("error", () => undefined);

        if (apiKey !== this.options.apiKey) {
            log("401");
            res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ message: "invalid api key" }));
            return;
        }
        const fault = this.faults.get(page)?.shift();
        const answer = () => {
            if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end(this.pageBody(page, limit));
        };
        if (fault === undefined) {
            log("ok");
            answer();
        } else if ("delayMs" in fault) {
            log("slow");
            setTimeout(answer, fault.delayMs).unref();
        } else if ("garbage" in fault) {
            log("garbage");
            res.writeHead(200, { "content-type": "text/html" }).end(fault.garbage);
        } else {
            log(String(fault.status));
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
            res.writeHead(fault.status, headers).end(fault.body ?? JSON.stringify({ message: `injected ${fault.status}` }));
        }
    }
}

/** `n` order records shaped like samples/api/ pages. */
export function orders(n: number, start = 1): Record<string, unknown>[] {
    return Array.from({ length: n }, (_, i) => {
        const id = start + i;
        return {
            order_id: `ORD-${String(id).padStart(6, "0")}`,
            customer_id: `CUST-${String((id % 7) + 1).padStart(4, "0")}`,
            order_ts: new Date(Date.UTC(2025, 10, 4, 8, 0, id)).toISOString(),
            status: "paid",
            currency: "EUR",
            items: [{ sku: `SKU-${id % 5}`, quantity: (id % 3) + 1, unit_price: 9.5 }],
        };
    });
}
