/**
 * Builds a Python Lambda's deployment zip when the program runs, like lambdaBundle.ts does for the TypeScript
 * functions: `pulumi up` alone ships the code in the working tree, and the zip's SHA-256 is part of the
 * resource graph (the promotion contract compares it between stages).
 *
 * The zip holds the function's own `*.py` files and `converter-contract.json` at its root, the `glue_pipeline` modules
 * they import (the import closure, found by reading the `import` lines, so a module the handler does not reach
 * — the Spark ones — is never shipped), and the contents of pinned binary wheels (DuckDB for the converter).
 *
 * Wheels come from PyPI through pip (`pip download --only-binary=:all: --no-deps` for the Lambda's platform),
 * into a cache directory, once; each is checked against a SHA-256 pinned here before it is used, so a
 * changed file on the index fails the build instead of being deployed.
 *
 * The zip is deterministic: entries sorted, fixed timestamps and modes, so the same sources give the same
 * hash on every machine.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./lambdaBundle";

/** A binary wheel pinned by file name and hash. */
export interface PinnedWheel {
    /** pip's requirement, e.g. `duckdb==1.4.3`. */
    readonly requirement: string;
    /** The file pip downloads for the platform below. */
    readonly fileName: string;
    /** Lowercase hex SHA-256 of that file. */
    readonly sha256: string;
    /** `--platform` values for pip (the Lambda's architecture). */
    readonly platforms: readonly string[];
    /** `--python-version` for pip (the Lambda's runtime). */
    readonly pythonVersion: string;
}

/**
 * DuckDB 1.4.3 for CPython 3.12 on arm64 Linux (the converter's runtime). The hash is the one PyPI publishes
 * for this file (its simple index, https://pypi.org/simple/duckdb/, the link's `#sha256=`; checked against it and
 * against the downloaded file's own digest).
 */
export const DUCKDB_WHEEL: PinnedWheel = {
    requirement: "duckdb==1.4.3",
    fileName: "duckdb-1.4.3-cp312-cp312-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl",
    sha256: "274d4a31aba63115f23e7e7b401e3e3a937f3626dc9dea820a9c7d3073f450d2",
    platforms: ["manylinux2014_aarch64", "manylinux_2_28_aarch64"],
    pythonVersion: "3.12",
};

/** Where downloaded wheels are kept between runs (override with PYTHON_WHEEL_CACHE). */
export function wheelCacheDir(): string {
    return process.env.PYTHON_WHEEL_CACHE ?? path.join(os.homedir(), ".cache", "glue-pipeline", "wheels");
}

/** The Python that runs pip and writes the zip: the repository's venv when there is one. */
export function buildPython(): string {
    const venv = path.join(REPO_ROOT, ".venv", "bin", "python");
    return process.env.BUILD_PYTHON ?? (fs.existsSync(venv) ? venv : "python3");
}

function sha256File(file: string): string {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The wheel's path in the cache, downloaded first if absent; throws if its hash is not the pinned one. */
export function pinnedWheel(wheel: PinnedWheel, cacheDir = wheelCacheDir()): string {
    const file = path.join(cacheDir, wheel.fileName);
    if (!fs.existsSync(file)) {
        fs.mkdirSync(cacheDir, { recursive: true });
        const args = ["-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps", "--python-version", wheel.pythonVersion];
        for (const platform of wheel.platforms) args.push("--platform", platform);
        args.push("-d", cacheDir, wheel.requirement);
        execFileSync(buildPython(), args, { stdio: ["ignore", "ignore", "pipe"] });
        if (!fs.existsSync(file)) throw new Error(`pythonPackage: pip did not download ${wheel.fileName} for ${wheel.requirement}`);
    }
    const actual = sha256File(file);
    if (actual !== wheel.sha256) {
        throw new Error(`pythonPackage: ${file} has SHA-256 ${actual}, pinned ${wheel.sha256}; refusing to package it`);
    }
    return file;
}

const IMPORT_LINE = /^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\s+([\w, ()]+)|import\s+([A-Za-z_][\w.]*))/gm;

/**
 * The modules of package `packageName` (a directory under `libDir`) that `sources` import, directly or through
 * each other, as paths relative to `libDir` (with the package's `__init__.py`). Import lines are read as text:
 * a module imported only conditionally is still included, which errs on the side of shipping it.
 */
export function importClosure(sources: readonly string[], libDir: string, packageName: string): string[] {
    const found = new Set<string>();
    const pending = [...sources];
    const moduleFile = (name: string): string | undefined => {
        const file = path.join(libDir, packageName, `${name}.py`);
        return fs.existsSync(file) ? file : undefined;
    };
    while (pending.length > 0) {
        const text = fs.readFileSync(pending.pop()!, "utf8");
        for (const match of text.matchAll(IMPORT_LINE)) {
            const dotted = match[1] ?? match[3];
            const parts = dotted.split(".");
            if (parts[0] !== packageName) continue;
            // `from pkg import a, b` names modules (or attributes of __init__); `from pkg.a import x` names a.
            const names = parts.length > 1 ? [parts[1]] : match[2] ? match[2].replace(/[()]/g, "").split(",").map((n) => n.trim().split(/\s+/)[0]) : [];
            for (const name of names) {
                const file = name ? moduleFile(name) : undefined;
                if (file && !found.has(file)) {
                    found.add(file);
                    pending.push(file);
                }
            }
        }
    }
    const init = path.join(libDir, packageName, "__init__.py");
    if (fs.existsSync(init)) found.add(init);
    return [...found].map((file) => path.relative(libDir, file)).sort();
}

export interface PythonPackageSpec {
    /** The function's directory (relative to the repository root): its `*.py` and `*.json` go to the zip's root. */
    readonly functionDir: string;
    /** The directory holding the shared package, relative to the repository root. */
    readonly libDir: string;
    /** The shared package whose imported modules are shipped. */
    readonly packageName: string;
    readonly wheels: readonly PinnedWheel[];
}

export interface PythonPackage {
    /** Absolute path of the zip. */
    readonly zipPath: string;
    /** Lowercase hex SHA-256 of the zip: the version of this package. */
    readonly sha256: string;
    readonly bytes: number;
    /** The shared package's modules in the zip, relative to the zip's root. */
    readonly modules: readonly string[];
}

// Writes the zip in sorted order with a fixed 1980-01-01 timestamp and fixed modes (deterministic). argv:
// output path, then JSON of [[archive name, source file], ...] and a JSON list of wheels whose entries are copied.
const ZIP_WRITER = String.raw`
import json, sys, zipfile
out, files, wheels = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
entries = {}
for name, source in files:
    with open(source, "rb") as f:
        entries[name] = f.read()
for wheel in wheels:
    with zipfile.ZipFile(wheel) as w:
        for info in w.infolist():
            if not info.is_dir():
                entries.setdefault(info.filename, w.read(info))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name in sorted(entries):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (0o100644 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, entries[name])
`;

const cache = new Map<string, PythonPackage>();

/** Forgets built packages (tests rebuild to prove the zip is deterministic). */
export function clearPythonPackageCache(): void {
    cache.clear();
}

/** Builds (once per process and spec) the deterministic zip of a Python function. */
export function buildPythonPackage(spec: PythonPackageSpec): PythonPackage {
    const key = JSON.stringify(spec);
    const hit = cache.get(key);
    if (hit) return hit;
    const functionDir = path.join(REPO_ROOT, spec.functionDir);
    const libDir = path.join(REPO_ROOT, spec.libDir);
    const own = fs
        .readdirSync(functionDir)
        .filter((f) => /\.(py|json)$/.test(f) && !/^test_/.test(f))
        .sort();
    const modules = importClosure(own.filter((f) => f.endsWith(".py")).map((f) => path.join(functionDir, f)), libDir, spec.packageName);
    const files: [string, string][] = [
        ...own.map((f): [string, string] => [f, path.join(functionDir, f)]),
        ...modules.map((m): [string, string] => [m.split(path.sep).join("/"), path.join(libDir, m)]),
    ];
    const wheels = spec.wheels.map((w) => pinnedWheel(w));
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "python-package-"));
    const zipPath = path.join(outDir, `${path.basename(functionDir)}.zip`);
    execFileSync(buildPython(), ["-c", ZIP_WRITER, zipPath, JSON.stringify(files), JSON.stringify(wheels)], { stdio: ["ignore", "ignore", "pipe"] });
    const built: PythonPackage = { zipPath, sha256: sha256File(zipPath), bytes: fs.statSync(zipPath).size, modules };
    cache.set(key, built);
    return built;
}

/** The CSV converter's zip: functions/csv-converter, the Spark-free glue_pipeline modules it imports, DuckDB. */
export const CSV_CONVERTER_PACKAGE: PythonPackageSpec = {
    functionDir: "functions/csv-converter",
    libDir: "glue/lib",
    packageName: "glue_pipeline",
    wheels: [DUCKDB_WHEEL],
};
