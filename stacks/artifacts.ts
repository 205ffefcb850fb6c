/**
 * The code a stack ships, in one place: where each artifact's source lives, what kind it is, and how its
 * version (a SHA-256 of its content) is computed. The composition builds components from these paths, and
 * the promotion check compares these versions with what the source stack exported — so the two cannot
 * drift apart.
 */
import { hashDirectory, hashFile, resolveRepoPath, sha256Hex } from "../components/glue/glueEtlJob";
import { CLAIMS_SOURCES } from "../components/claims/claimsPipeline";
import { GLUE_JOB_EVENTS_ENTRY } from "../components/monitoring/glueJobEventHandler";
import { bundleFunction } from "../components/compute/lambdaBundle";
import { CSV_CONVERTER_PACKAGE, buildPythonPackage } from "../components/compute/pythonPackage";
import { INGEST_ENTRY, MEDALLION_JOB_SCRIPT } from "../components/workflow/medallionWorkflow";
import { ArtifactVersions } from "./promotion";

/**
 * A Glue entry script (hashed as a file), the Glue library (a directory), a Lambda handler (its bundle), or a
 * Python Lambda's deployment zip (components/compute/pythonPackage.ts; deterministic, so its hash is its version).
 */
export type ArtifactKind = "glueScript" | "glueLibrary" | "lambdaBundle" | "pythonPackage";

export interface ArtifactSource {
    readonly kind: ArtifactKind;
    /** Relative to the repository root. */
    readonly path: string;
}

export const ARTIFACT_SOURCES = {
    /** FileProcessorV2's entry script, the exact file uploaded to Glue. */
    fileProcessorScript: { kind: "glueScript", path: "glue/jobs/file_processor.py" },
    /** ParquetToJson's entry script (the Parquet → JSON flow). */
    parquetToJsonScript: { kind: "glueScript", path: "glue/jobs/parquet_to_json.py" },
    /** ProcessLegislators' entry script (the legislators flow). */
    legislatorsScript: { kind: "glueScript", path: "glue/jobs/process_legislators.py" },
    /** The medallion silver/gold job (the medallion flow). */
    medallionScript: { kind: "glueScript", path: MEDALLION_JOB_SCRIPT },
    /** The healthcare claims ETL (the claims flow). */
    claimsScript: { kind: "glueScript", path: CLAIMS_SOURCES.etlScript },
    /** The pure PySpark transforms every job imports, zipped for --extra-py-files. */
    glueLibrary: { kind: "glueLibrary", path: "glue/lib" },
    /** The S3 trigger Lambda's handler (CSV and Parquet triggers share it). */
    glueTriggerBundle: { kind: "lambdaBundle", path: "functions/glue-trigger/handler.ts" },
    /** The Glue job state-change handler: notifications, failure metrics, dead runs marked FAILED. */
    glueJobEventsBundle: { kind: "lambdaBundle", path: GLUE_JOB_EVENTS_ENTRY },
    /** The claims validation Lambda (the claims flow). */
    claimsValidationBundle: { kind: "lambdaBundle", path: CLAIMS_SOURCES.validationHandler },
    /** The medallion API ingestion Lambda. */
    apiIngestBundle: { kind: "lambdaBundle", path: INGEST_ENTRY },
    /** The CSV flow's fast-path converter: its zip (handler, the Spark-free glue_pipeline modules, DuckDB). */
    csvConverterPackage: { kind: "pythonPackage", path: CSV_CONVERTER_PACKAGE.functionDir },
} as const satisfies Record<string, ArtifactSource>;

export type ArtifactName = keyof typeof ARTIFACT_SOURCES;

/** Artifacts only a stack running the medallion workflow ships. */
export const MEDALLION_ARTIFACTS: readonly ArtifactName[] = ["medallionScript", "apiIngestBundle"];
/** Artifacts only a stack with the CSV flow's fast path (`fastPath.enabled`, the default) ships. */
export const FAST_PATH_ARTIFACTS: readonly ArtifactName[] = ["csvConverterPackage"];

/** The version of one artifact in this working tree. */
export function artifactVersion(source: ArtifactSource): string {
    switch (source.kind) {
        case "glueScript":
            return hashFile(resolveRepoPath(source.path));
        case "glueLibrary":
            return hashDirectory(resolveRepoPath(source.path));
        case "lambdaBundle":
            return bundleFunction(source.path).sha256;
        case "pythonPackage":
            if (source.path !== CSV_CONVERTER_PACKAGE.functionDir) throw new Error(`artifactVersion: no Python package is defined for ${source.path}`);
            return buildPythonPackage(CSV_CONVERTER_PACKAGE).sha256;
    }
}

/** Versions of the named artifacts (default: all) in this working tree. */
export function localArtifactVersions(names: readonly ArtifactName[] = Object.keys(ARTIFACT_SOURCES) as ArtifactName[]): ArtifactVersions {
    return Object.fromEntries(names.map((name) => [name, artifactVersion(ARTIFACT_SOURCES[name])]));
}

/** The artifacts a stack with (or without) the medallion workflow and the fast path ships. */
export function shippedArtifacts(withMedallion: boolean, withFastPath = true): ArtifactName[] {
    return (Object.keys(ARTIFACT_SOURCES) as ArtifactName[]).filter(
        (name) => (withMedallion || !MEDALLION_ARTIFACTS.includes(name)) && (withFastPath || !FAST_PATH_ARTIFACTS.includes(name)),
    );
}

/** One short identifier of a whole release: changes when any artifact changes. */
export function releaseId(versions: ArtifactVersions): string {
    const canonical = Object.keys(versions)
        .sort()
        .map((k) => `${k}=${versions[k]}`)
        .join("\n");
    return sha256Hex(canonical).slice(0, 16);
}
