/**
 * The streaming CSV reader: the same records and line numbers whatever the chunking, RFC 4180 quoting as
 * the Glue job's reader defines it, and bounded look-ahead for a quote that never closes.
 */
import assert from "node:assert/strict";
import { CsvRecord, CsvRecordReader, endsInsideQuotes, readAllRecords, splitFields } from "../../functions/claims-validation/csvRecords";

const compact = (records: readonly CsvRecord[]) => records.map((r) => [r.lineNumber, r.lineCount, r.closed, r.fields]);

/** Feeds `text` in chunks of `size` characters. */
function chunked(text: string, size: number, maxRecordLines = 1000): CsvRecord[] {
    const reader = new CsvRecordReader(maxRecordLines);
    const out: CsvRecord[] = [];
    for (let i = 0; i < text.length; i += size) out.push(...reader.push(text.slice(i, i + size)));
    return [...out, ...reader.end()];
}

describe("claims CSV records", () => {
    describe("splitting fields", () => {
        const cases: Array<[string, string[]]> = [
            ["a,b,c", ["a", "b", "c"]],
            ["a,,c,", ["a", "", "c", ""]],
            ['"a,b",c', ["a,b", "c"]],
            ['"say ""hi""",x', ['say "hi"', "x"]],
            ['55" TV,x', ['55" TV', "x"]],
            ['"ab"cd,e', ["abcd", "e"]],
            ['"multi\nline",z', ["multi\nline", "z"]],
            ["", [""]],
        ];
        for (const [text, fields] of cases) it(`${JSON.stringify(text)} → ${JSON.stringify(fields)}`, () => assert.deepEqual(splitFields(text), fields));
    });

    describe("telling whether a line leaves a quoted value open", () => {
        const cases: Array<[string, boolean, boolean]> = [
            ["a,b", false, false],
            ['a,"b', false, true],
            ['a,"b""', false, true],
            ['a,"b"', false, false],
            ['55" TV,"x', false, true],
            ['a,b"c', false, false],
            ["still inside", true, true],
            ['closes" here,x', true, false],
            ['closes",then "opens', true, false],
            ['closes",then,"opens', true, true],
        ];
        for (const [line, inside, open] of cases) {
            it(`${JSON.stringify(line)}${inside ? " (continuing)" : ""} → ${open ? "open" : "closed"}`, () => assert.equal(endsInsideQuotes(line, inside), open));
        }
    });

    describe("reading a stream", () => {
        const text = 'id,note\r\n1,plain\r\n\r\n2,"two\r\nlines"\r\n3,"a ""quote"""\n4,last';

        it("numbers records by their first physical line and skips blank lines", () => {
            assert.deepEqual(compact(readAllRecords(text)), [
                [1, 1, true, ["id", "note"]],
                [2, 1, true, ["1", "plain"]],
                [4, 2, true, ["2", "two\r\nlines"]], // the break inside quotes kept as uploaded
                [6, 1, true, ["3", 'a "quote"']],
                [7, 1, true, ["4", "last"]],
            ]);
        });

        it("gives the same records for every chunk size, including a \\r\\n split across chunks", () => {
            const whole = compact(readAllRecords(text));
            for (const size of [1, 2, 3, 5, 7, 64]) assert.deepEqual(compact(chunked(text, size)), whole, `chunk size ${size}`);
        });

        it("treats a lone \\r as a line break", () => {
            assert.deepEqual(compact(readAllRecords("a,b\rc,d\r")), [
                [1, 1, true, ["a", "b"]],
                [2, 1, true, ["c", "d"]],
            ]);
        });

        it("keeps each line break inside a quoted value as uploaded (\\r, \\n, \\r\\n), for every chunk size", () => {
            const mixed = 'id,v\n1,"a\rb\nc\r\nd"\n';
            for (const size of [1, 2, 3, 64]) {
                assert.deepEqual(compact(chunked(mixed, size))[1], [2, 4, true, ["1", "a\rb\nc\r\nd"]], `chunk size ${size}`);
            }
        });

        it("does not count an empty remainder after the last line break as a line", () => {
            const reader = new CsvRecordReader();
            reader.push("h\n1\n");
            reader.end();
            assert.equal(reader.linesRead, 2);
        });
    });

    describe("a quote that never closes", () => {
        it("makes its opening line one malformed record and reads the following lines again", () => {
            const text = 'id,v\n1,"open\n2,ok\n3,ok\n';
            assert.deepEqual(compact(readAllRecords(text, 2)), [
                [1, 1, true, ["id", "v"]],
                [2, 1, false, ["1", "open"]],
                [3, 1, true, ["2", "ok"]],
                [4, 1, true, ["3", "ok"]],
            ]);
        });

        it("also at the end of the file, within the look-ahead limit", () => {
            assert.deepEqual(compact(chunked('id,v\n1,"open\n2,ok', 4, 1000)), [
                [1, 1, true, ["id", "v"]],
                [2, 1, false, ["1", "open"]],
                [3, 1, true, ["2", "ok"]],
            ]);
        });

        it("closes a value spanning exactly maxRecordLines lines", () => {
            assert.deepEqual(compact(readAllRecords('1,"a\nb\nc"\n', 3)), [[1, 3, true, ["1", "a\nb\nc"]]]);
            assert.deepEqual(compact(readAllRecords('1,"a\nb\nc"\n', 2)).map((r) => r[2]), [false, true, true]);
        });

        it("rejects a non-positive limit", () => assert.throws(() => new CsvRecordReader(0), /maxRecordLines/));
    });
});
