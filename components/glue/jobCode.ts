/**
 * A Glue job's code: content hashes, the zipped Python library, and where both live in the assets bucket.
 *
 * Keys change with content (`scripts/<job>/<sha12>/<file>.py`, `libs/<job>/<sha12>/glue_pipeline.zip`), so
 * a changed script can never be shadowed by a cached object of the same key, and the hashes tell prod
 * exactly which code dev ran (stacks/artifacts.ts computes the same hashes from the working tree). The
 * library key carries the job name because each job owns its upload: two jobs sharing one key would delete
 * each other's object when one of them goes away.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

import { REPO_ROOT } from "../compute/lambdaBundle";
import { zipEntries } from "./zipArchive";

/** File name of the zipped library passed with `--extra-py-files`. */
export const LIBRARY_ARCHIVE_NAME = "glue_pipeline.zip";

export const sha256Hex = (data: Buffer | string): string => crypto.createHash("sha256").update(data).digest("hex");

/** Lowercase hex SHA-256 of a file's bytes. */
export function hashFile(file: string): string {
    return sha256Hex(fs.readFileSync(file));
}

/** Entries never shipped: bytecode caches and hidden files (editor, test and OS clutter). */
export function isIgnoredLibraryEntry(name: string): boolean {
    return name === "__pycache__" || name.startsWith(".") || name.endsWith(".pyc") || name.endsWith(".pyo");
}

export interface LibraryFile {
    /** POSIX path relative to the library directory: the path inside the zip. */
    readonly relativePath: string;
    readonly absolutePath: string;
}

/** Regular files under `dir`, ignored entries left out, sorted by relative path (code-unit order). */
export function listLibraryFiles(dir: string): LibraryFile[] {
    const files: LibraryFile[] = [];
    const walk = (current: string, rel: string) => {
        for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
            if (isIgnoredLibraryEntry(entry.name)) continue;
            const abs = path.join(current, entry.name);
            const relPath = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(abs, relPath);
            else if (entry.isFile()) files.push({ relativePath: relPath, absolutePath: abs });
        }
    };
    walk(dir, "");
    return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/**
 * Content hash of a directory: SHA-256 over `<relative path>\0<file sha256>\n` per file in sorted order.
 * Independent of file times, creation order and the zip format; changes when any shipped byte or name does.
 */
export function hashDirectory(dir: string): string {
    return sha256Hex(listLibraryFiles(dir).map((f) => `${f.relativePath}\0${hashFile(f.absolutePath)}\n`).join(""));
}

export interface LibraryArchive {
    /** {@link hashDirectory} of the library directory. */
    readonly sha256: string;
    readonly zip: Buffer;
    readonly files: readonly string[];
}

/** Zips the library directory (paths relative to it, so `glue_pipeline/` sits at the root of the zip). */
export function buildLibraryArchive(dir: string): LibraryArchive {
    const files = listLibraryFiles(dir);
    if (files.length === 0) throw new Error(`buildLibraryArchive: no files to ship under ${dir}`);
    const zip = zipEntries(files.map((f) => ({ name: f.relativePath, data: fs.readFileSync(f.absolutePath) })));
    return { sha256: hashDirectory(dir), zip, files: files.map((f) => f.relativePath) };
}

/** `scripts/<job>/<sha12>/<file name>` */
export function scriptObjectKey(jobName: string, scriptFileName: string, sha256: string): string {
    return `${jobCodePrefixes(jobName).script}${sha256.slice(0, 12)}/${scriptFileName}`;
}

/** `libs/<job>/<sha12>/glue_pipeline.zip` */
export function libraryObjectKey(jobName: string, sha256: string): string {
    return `${jobCodePrefixes(jobName).library}${sha256.slice(0, 12)}/${LIBRARY_ARCHIVE_NAME}`;
}

/** The prefixes in the assets bucket that belong to one job. */
export function jobCodePrefixes(jobName: string): { script: string; library: string; temp: string; sparkUi: string } {
    return { script: `scripts/${jobName}/`, library: `libs/${jobName}/`, temp: `temp/${jobName}/`, sparkUi: `sparkui/${jobName}/` };
}

/** Resolves a path given relative to the repository root (or absolute). */
export function resolveRepoPath(p: string): string {
    return path.isAbsolute(p) ? p : path.join(REPO_ROOT, p);
}
