/**
 * A deterministic zip writer: the same entries always give the same bytes (fixed timestamps and modes, no
 * extra fields), so an archive's hash is a function of its content only. Written by hand, not taken from an
 * npm zip library, because the bytes are part of the contract: the Glue library's object key and the
 * promotion check depend on them, and a library update that changed a header field would move every
 * stack's library for no reason. Enough of the format for Python's zipimport (no zip64, no encryption).
 */
import * as zlib from "zlib";

let crcTable: Uint32Array | undefined;
/** CRC-32 (zip's checksum): zlib's native one where Node has it (20.15+), else a table-driven one. */
export function crc32(data: Buffer): number {
    const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
    if (typeof native === "function") return native(data) >>> 0;
    if (!crcTable) {
        crcTable = new Uint32Array(256);
        for (let n = 0; n < 256; n++) {
            let c = n;
            for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
            crcTable[n] = c >>> 0;
        }
    }
    let crc = 0xffffffff;
    for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
}

// DOS date of 1980-01-01, time 00:00: a fixed timestamp keeps the archive a function of the content only.
const ZIP_DOS_DATE = (0 << 9) | (1 << 5) | 1;
const ZIP_DOS_TIME = 0;

/** One file of an archive: its path inside the zip (`/`-separated) and its bytes. */
export interface ZipEntry {
    readonly name: string;
    readonly data: Buffer;
}

/**
 * A deterministic zip (deflate, or stored when deflate does not help; UTF-8 names; fixed timestamps; mode
 * 0644) of `entries`, in the order given. Enough for Python's zipimport, which is how Glue loads
 * `--extra-py-files`.
 */
export function zipEntries(entries: readonly ZipEntry[]): Buffer {
    if (entries.length > 0xffff) throw new Error("zipEntries: too many files for a non-zip64 archive");
    const locals: Buffer[] = [];
    const centrals: Buffer[] = [];
    let offset = 0;
    for (const { name, data } of entries) {
        const nameBytes = Buffer.from(name, "utf8");
        const deflated = zlib.deflateRawSync(data, { level: 9 });
        const stored = deflated.length >= data.length;
        const body = stored ? data : deflated;
        const crc = crc32(data);
        if (data.length > 0xfffffffe || offset > 0xfffffffe) throw new Error("zipEntries: archive too large for a non-zip64 zip");
        const local = Buffer.alloc(30);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(20, 4);
        local.writeUInt16LE(0x0800, 6);
        local.writeUInt16LE(stored ? 0 : 8, 8);
        local.writeUInt16LE(ZIP_DOS_TIME, 10);
        local.writeUInt16LE(ZIP_DOS_DATE, 12);
        local.writeUInt32LE(crc, 14);
        local.writeUInt32LE(body.length, 18);
        local.writeUInt32LE(data.length, 22);
        local.writeUInt16LE(nameBytes.length, 26);
        local.writeUInt16LE(0, 28);
        const central = Buffer.alloc(46);
        central.writeUInt32LE(0x02014b50, 0);
        central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes are a mode
        central.writeUInt16LE(20, 6);
        central.writeUInt16LE(0x0800, 8);
        central.writeUInt16LE(stored ? 0 : 8, 10);
        central.writeUInt16LE(ZIP_DOS_TIME, 12);
        central.writeUInt16LE(ZIP_DOS_DATE, 14);
        central.writeUInt32LE(crc, 16);
        central.writeUInt32LE(body.length, 20);
        central.writeUInt32LE(data.length, 24);
        central.writeUInt16LE(nameBytes.length, 28);
        central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
        central.writeUInt32LE(offset, 42);
        locals.push(local, nameBytes, body);
        centrals.push(central, nameBytes);
        offset += local.length + nameBytes.length + body.length;
    }
    const centralDirectory = Buffer.concat(centrals);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(centralDirectory.length, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, centralDirectory, end]);
}
