/**
 * Streaming CSV records: text chunks in, records (fields plus their first line number) out, in bounded
 * memory — one partial line and at most one open multi-line record are held, never the file.
 *
 * The quoting rules are those of the Glue job's reader (glue_pipeline/csv_quoting.py, which follows
 * Spark's CSV parser): a quote opens a quoted field only as a field's first character; inside it `""` is a
 * literal quote and a lone `"` closes it; text after the closing quote up to the next delimiter is literal;
 * a quote inside an unquoted field is literal. Lines end at `\n`, `\r\n` or `\r`; inside a quoted value the line
 * break is kept as it was (`\r\n` stays `\r\n`, as the job writes it). Blank lines outside a
 * quoted value are not records. A quoted value still open after `maxRecordLines` lines (or at the end of
 * the file) makes its opening line a malformed record of its own, and the lines after it are read again
 * as new records: one stray quote costs one record, not the rest of the file. The Lambda therefore counts
 * records and line numbers exactly as the job will.
 */

const QUOTE = 34; // "
const COMMA = 44; // ,

/** One record of the file. `lineNumber` is the 1-based physical line its text starts on. */
export interface CsvRecord {
    readonly lineNumber: number;
    readonly lineCount: number;
    readonly fields: readonly string[];
    /** False when a quoted value opened on this line was never closed: the record is malformed. */
    readonly closed: boolean;
}

// States of the quoting state machine (shared by line scanning and field splitting).
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * True when `line` leaves a quoted field open. `startsInside`: the line continues a quoted field left open
 * by the previous line. Same definition as csv_quoting.ends_inside_quotes_reference.
 */
export function endsInsideQuotes(line: string, startsInside = false): boolean {
    if (!startsInside && line.indexOf('"') < 0) return false;
    let state = startsInside ? QUOTED : FIELD_START;
    for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        switch (state) {
            case FIELD_START:
                state = c === QUOTE ? QUOTED : c === COMMA ? FIELD_START : UNQUOTED;
                break;
            case UNQUOTED:
                if (c === COMMA) state = FIELD_START;
                break;
            case QUOTED:
                if (c === QUOTE) state = QUOTE_IN_QUOTED;
                break;
            default:
                state = c === QUOTE ? QUOTED : c === COMMA ? FIELD_START : UNQUOTED;
        }
    }
    return state === QUOTED;
}

/** Splits one complete record's text into field values (quotes removed, `""` unescaped). */
export function splitFields(text: string): string[] {
    if (text.indexOf('"') < 0) return text.split(",");
    const fields: string[] = [];
    let current = "";
    let state = FIELD_START;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        const c = text.charCodeAt(i);
        switch (state) {
            case FIELD_START:
                if (c === QUOTE) state = QUOTED;
                else if (c === COMMA) fields.push("");
                else {
                    current = ch;
                    state = UNQUOTED;
                }
                break;
            case UNQUOTED:
                if (c === COMMA) {
                    fields.push(current);
                    current = "";
                    state = FIELD_START;
                } else current += ch;
                break;
            case QUOTED:
                if (c === QUOTE) state = QUOTE_IN_QUOTED;
                else current += ch;
                break;
            default:
                if (c === QUOTE) {
                    current += '"';
                    state = QUOTED;
                } else if (c === COMMA) {
                    fields.push(current);
                    current = "";
                    state = FIELD_START;
                } else {
                    current += ch;
                    state = UNQUOTED;
                }
        }
    }
    fields.push(current);
    return fields;
}

/** Blank lines between records are not records (Spark's reader skips them too). */
export function isBlank(line: string): boolean {
    return /^[ \t]*$/.test(line);
}

/**
 * Turns a stream of text chunks into records. Call `push` for each decoded chunk and `end` once; both
 * return the records completed by that call, in file order.
 */
export class CsvRecordReader {
    private partial = "";
    /** A `\r` ended the last chunk: a `\n` starting the next one belongs to the same line break. */
    private pendingCr = false;
    private lineNumber = 0;
    /** The line break that ended the last complete line: the break before the next one. */
    private lastBreak = "\n";
    /** Lines of a record whose quoted value is still open, the break before each, the number of its first line. */
    private open: { firstLine: number; lines: string[]; breaks: string[] } | undefined;
    private out: CsvRecord[] = [];

    constructor(private readonly maxRecordLines = 1000) {
        if (!Number.isInteger(maxRecordLines) || maxRecordLines < 1) throw new RangeError(`maxRecordLines must be a positive integer, got ${maxRecordLines}`);
    }

    /** Lines read so far (complete lines only). */
    get linesRead(): number {
        return this.lineNumber;
    }

    push(chunk: string): CsvRecord[] {
        let start = 0;
        if (this.pendingCr) {
            this.pendingCr = false;
            if (chunk.charCodeAt(0) === 10) {
                start = 1;
                this.lastBreak = "\r\n";
            }
        }
        for (let i = start; i < chunk.length; i++) {
            const c = chunk.charCodeAt(i);
            if (c !== 10 && c !== 13) continue;
            this.line(this.partial + chunk.slice(start, i));
            this.partial = "";
            this.lastBreak = "\n";
            if (c === 13) {
                this.lastBreak = "\r";
                if (i + 1 < chunk.length) {
                    if (chunk.charCodeAt(i + 1) === 10) {
                        i++;
                        this.lastBreak = "\r\n";
                    }
                } else this.pendingCr = true; // "\r" until the next chunk shows whether "\n" follows
            }
            start = i + 1;
        }
        this.partial += chunk.slice(start);
        return this.drain();
    }

    end(): CsvRecord[] {
        // A last line without a line break is still a line; an empty remainder after the final break is not.
        if (this.partial !== "") {
            this.line(this.partial);
            this.partial = "";
        }
        while (this.open) this.giveUp();
        return this.drain();
    }

    private drain(): CsvRecord[] {
        const done = this.out;
        this.out = [];
        return done;
    }

    private line(text: string): void {
        this.lineNumber++;
        this.feed(text, this.lineNumber, this.lastBreak);
    }

    private feed(text: string, number: number, breakBefore: string): void {
        if (this.open) {
            this.open.lines.push(text);
            this.open.breaks.push(breakBefore);
            if (!endsInsideQuotes(text, true)) {
                const { firstLine, lines, breaks } = this.open;
                this.open = undefined;
                let joined = lines[0];
                for (let i = 1; i < lines.length; i++) joined += breaks[i] + lines[i];
                this.out.push({ lineNumber: firstLine, lineCount: lines.length, fields: splitFields(joined), closed: true });
            } else if (this.open.lines.length >= this.maxRecordLines) {
                this.giveUp();
            }
            return;
        }
        if (endsInsideQuotes(text)) {
            this.open = { firstLine: number, lines: [text], breaks: [""] };
            if (this.maxRecordLines === 1) this.giveUp();
            return;
        }
        if (!isBlank(text)) this.out.push({ lineNumber: number, lineCount: 1, fields: splitFields(text), closed: true });
    }

    /** The open record never closed: its first line is malformed alone; the lines after it are read again. */
    private giveUp(): void {
        const { firstLine, lines, breaks } = this.open!;
        this.open = undefined;
        this.out.push({ lineNumber: firstLine, lineCount: 1, fields: splitFields(lines[0]), closed: false });
        for (let i = 1; i < lines.length; i++) this.feed(lines[i], firstLine + i, breaks[i]);
    }
}

/** Reads every record of a whole text (tests, small inputs). */
export function readAllRecords(text: string, maxRecordLines = 1000): CsvRecord[] {
    const reader = new CsvRecordReader(maxRecordLines);
    return [...reader.push(text), ...reader.end()];
}
