/**
 * The validation Lambda's check of one claims file, run on a local file: what `npm run local -- --job claims`
 * uses to decide, exactly as the Lambda would, whether a sample goes to the Glue job or to quarantine.
 *
 *     node -r ts-node/register/transpile-only functions/claims-validation/localValidate.ts \
 *         --input samples/claims/claims_2024_03.csv --report out/report.json [--min-quality-score 95]
 *
 * Writes the validation report (the same document the Lambda writes under validation-reports/) and prints one
 * JSON line: status, score, summary, reasons, file id. Exit code 0 whether the file passed or not; 2 on a
 * usage or I/O error.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { deriveFileId } from "../shared/s3Events";
import { buildReport } from "./report";
import { utcDate } from "./rules";
import { compileSchema } from "./schema";
import { validateStream } from "./validation";

interface Options {
    readonly input: string;
    readonly report: string;
    readonly minQualityScore: number;
    readonly referenceDate?: string;
}

function parseArgs(argv: readonly string[]): Options {
    const value = (flag: string) => {
        const i = argv.indexOf(flag);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const input = value("--input");
    const report = value("--report");
    if (!input || !report) throw new Error("usage: localValidate.ts --input <file.csv> --report <report.json> [--min-quality-score 95] [--reference-date YYYY-MM-DD]");
    const score = Number(value("--min-quality-score") ?? "95");
    if (!(score >= 0 && score <= 100)) throw new Error(`--min-quality-score must be from 0 to 100, got ${value("--min-quality-score")}`);
    return { input, report, minQualityScore: score, referenceDate: value("--reference-date") };
}

export async function validateLocalFile(options: Options) {
    const schema = compileSchema();
    const bytes = fs.statSync(options.input).size;
    // A local file has no S3 version: its content hash plays the ETag's part in the file id.
    const etag = createHash("md5").update(fs.readFileSync(options.input)).digest("hex");
    const key = path.basename(options.input);
    const fileId = deriveFileId("local", key, etag);
    const started = new Date();
    const referenceDate = options.referenceDate ?? utcDate(started);
    const result = await validateStream(fs.createReadStream(options.input), { schema, referenceDate, maxRecordLines: 1000, maxIssueSamples: 50 });
    const report = buildReport({
        schema,
        file: { bucket: "local", key, version: etag, size_bytes: bytes, file_id: fileId },
        reportLocation: path.resolve(options.report),
        header: result.header,
        analysis: result.analysis,
        fileIssues: result.fileIssues,
        accumulator: result.accumulator,
        minQualityScore: options.minQualityScore,
        linesRead: result.linesRead,
        referenceDate,
        validatedAt: started,
        durationMs: Date.now() - started.getTime(),
    });
    fs.mkdirSync(path.dirname(path.resolve(options.report)), { recursive: true });
    fs.writeFileSync(options.report, JSON.stringify(report, null, 2));
    return report;
}

if (require.main === module) {
    validateLocalFile(parseArgs(process.argv.slice(2)))
        .then((report) => {
            process.stdout.write(
                JSON.stringify({
                    validation_status: report.validation_status,
                    quality_score: report.quality_score,
                    summary: report.summary,
                    reasons: report.decision.reasons,
                    file_id: report.file.file_id,
                    report_location: report.report_location,
                }) + "\n",
            );
        })
        .catch((err: unknown) => {
            process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(2);
        });
}
