/**
 * The code a stack ships, in one place: where each artifact's source lives and how its version (a SHA-256
 * of its content) is computed. The composition builds components from these paths, and the promotion
 * check compares these versions with what the source stack exported — so the two cannot drift apart.
 */
import { hashDirectory, hashFile, resolveRepoPath, sha256Hex } from "../components/glueEtlJob";
import { bundleFunction } from "../components/lambdaBundle";
import { ArtifactVersions } from "./promotion";

export const ARTIFACT_SOURCES = {
    /** FileProcessorV2's entry script, the exact file uploaded to Glue. */
    fileProcessorScript: "glue/jobs/file_processor.py",
    /** ParquetToJson's entry script (seed 001). */
    parquetToJsonScript: "glue/jobs/parquet_to_json.py",
    /** ProcessLegislators' entry script (seed 000). */
    legislatorsScript: "glue/jobs/process_legislators.py",
    /** The pure PySpark transforms every job imports, zipped for --extra-py-files. */
    glueLibrary: "glue/lib",
    /** The S3 trigger Lambda's handler, bundled by esbuild. */
    glueTriggerBundle: "functions/glue-trigger/handler.ts",
} as const;

export type ArtifactName = keyof typeof ARTIFACT_SOURCES;

/** Versions of the artifacts in this working tree. */
export function localArtifactVersions(): Record<ArtifactName, string> {
    return {
        fileProcessorScript: hashFile(resolveRepoPath(ARTIFACT_SOURCES.fileProcessorScript)),
        parquetToJsonScript: hashFile(resolveRepoPath(ARTIFACT_SOURCES.parquetToJsonScript)),
        legislatorsScript: hashFile(resolveRepoPath(ARTIFACT_SOURCES.legislatorsScript)),
        glueLibrary: hashDirectory(resolveRepoPath(ARTIFACT_SOURCES.glueLibrary)),
        glueTriggerBundle: bundleFunction(ARTIFACT_SOURCES.glueTriggerBundle).sha256,
    };
}

/** One short identifier of a whole release: changes when any artifact changes. */
export function releaseId(versions: ArtifactVersions): string {
    const canonical = Object.keys(versions)
        .sort()
        .map((k) => `${k}=${versions[k]}`)
        .join("\n");
    return sha256Hex(canonical).slice(0, 16);
}
