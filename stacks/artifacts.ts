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
import { INGEST_ENTRY, MEDALLION_JOB_SCRIPT } from "../components/workflow/medallionWorkflow";
import { ArtifactVersions } from "./promotion";

/** A Glue entry script (hashed as a file), the Glue library (a directory), or a Lambda handler (its bundle). */
export type ArtifactKind = "glueScript" | "glueLibrary" | "lambdaBundle";

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
} as const satisfies Record<string, ArtifactSource>;

export type ArtifactName = keyof typeof ARTIFACT_SOURCES;

/** Artifacts only a stack running the medallion workflow ships. */
export const MEDALLION_ARTIFACTS: readonly ArtifactName[] = ["medallionScript", "apiIngestBundle"];

/** The version of one artifact in this working tree. */
export function artifactVersion(source: ArtifactSource): string {
    switch (source.kind) {
        case "glueScript":
            return hashFile(resolveRepoPath(source.path));
        case "glueLibrary":
            return hashDirectory(resolveRepoPath(source.path));
        case "lambdaBundle":
            return bundleFunction(source.path).sha256;
    }
}

/** Versions of the named artifacts (default: all) in this working tree. */
export function localArtifactVersions(names: readonly ArtifactName[] = Object.keys(ARTIFACT_SOURCES) as ArtifactName[]): ArtifactVersions {
    return Object.fromEntries(names.map((name) => [name, artifactVersion(ARTIFACT_SOURCES[name])]));
}

/** The artifacts a stack with (or without) the medallion workflow ships. */
export function shippedArtifacts(withMedallion: boolean): ArtifactName[] {
    return (Object.keys(ARTIFACT_SOURCES) as ArtifactName[]).filter((name) => withMedallion || !MEDALLION_ARTIFACTS.includes(name));
}

/** One short identifier of a whole release: changes when any artifact changes. */
export function releaseId(versions: ArtifactVersions): string {
    const canonical = Object.keys(versions)
        .sort()
        .map((k) => `${k}=${versions[k]}`)
        .join("\n");
    return sha256Hex(canonical).slice(0, 16);
}
