/**
 * Bundles a Lambda handler from `functions/<name>/` with esbuild, in memory, when the program runs.
 *
 * Why at program time rather than a separate build step: `pulumi up` alone then always ships the code in
 * the working tree, and the bundle's hash becomes part of the resource graph (prod compares it with the
 * hash dev deployed). The AWS SDK v3 is bundled, not taken from the runtime, so the code that was tested
 * is the code that runs.
 */
import * as crypto from "crypto";
import * as esbuild from "esbuild";
import * as path from "path";

/** Node.js major version the bundles target; matches the functions' `nodejs22.x` runtime. */
export const LAMBDA_NODE_TARGET = "node22";

export interface LambdaBundle {
    /** Absolute path of the entry file that was bundled. */
    readonly entry: string;
    /** The bundled CommonJS source, exporting `handler`. */
    readonly code: string;
    /** Lowercase hex SHA-256 of `code`: the version of this bundle. */
    readonly sha256: string;
    /** Size of `code` in bytes. */
    readonly bytes: number;
}

const cache = new Map<string, LambdaBundle>();

/** Repository root, whether this file runs from source (ts-node) or from a compiled `dist/` copy. */
export const REPO_ROOT = path.resolve(__dirname, "../..").replace(/[\\/]dist$/, "");

/**
 * Bundles `entry` (absolute, or relative to the repository root) into one minified CommonJS file.
 * Results are cached per entry for the life of the process: a program that uses a function twice
 * bundles it once.
 */
export function bundleFunction(entry: string): LambdaBundle {
    const absolute = path.isAbsolute(entry) ? entry : path.join(REPO_ROOT, entry);
    const hit = cache.get(absolute);
    if (hit) return hit;
    const result = esbuild.buildSync({
        entryPoints: [absolute],
        bundle: true,
        write: false,
        platform: "node",
        target: LAMBDA_NODE_TARGET,
        format: "cjs",
        // Prefer the ESM builds of dependencies (the AWS SDK v3 ships both): esbuild can then drop unused
        // code, which halves the bundle and its cold import time (see docs/benchmarks.md).
        mainFields: ["module", "main"],
        minify: true,
        // Keep names so that stack traces in CloudWatch stay readable.
        keepNames: true,
        legalComments: "none",
        logLevel: "silent",
    });
    const code = result.outputFiles[0].text;
    const bundle: LambdaBundle = {
        entry: absolute,
        code,
        sha256: crypto.createHash("sha256").update(code).digest("hex"),
        bytes: Buffer.byteLength(code),
    };
    cache.set(absolute, bundle);
    return bundle;
}
