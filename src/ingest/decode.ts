import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { stat } from 'node:fs/promises';
import { ReportError } from './report-error.ts';
import { type ParseLimits, mib } from './limits.ts';

const chunkBytes = 64 * 1024;

/**
 * Streams a report file as text, chunk by chunk. Enforces the size cap before reading, honours a
 * UTF-16 byte order mark, and on invalid UTF-8 warns once and goes on with U+FFFD replacements
 * (Go and Java both emit reports with stray bytes from captured output).
 */
export async function* readReportText(
  file: string,
  limits: ParseLimits,
  warn: (message: string) => void,
): AsyncGenerator<string> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ReportError(file, 'is not a regular file: pass a JUnit XML or Ginkgo JSON report file');
    size = info.size;
  } catch (err) {
    if (err instanceof ReportError) throw err;
    throw new ReportError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path`, { cause: err });
  }
  if (size === 0) {
    throw new ReportError(file, 'is empty: the test run probably died before writing its report; check the run log');
  }
  if (size > limits.maxFileBytes) {
    throw new ReportError(
      file,
      `is ${mib(size)}, over the ${mib(limits.maxFileBytes)} report size limit: raise the limit (maxFileBytes) if the report is genuine, or split the suite`,
    );
  }

  let decoder: TextDecoder | undefined;
  let fatal = true;
  let offset = 0;
  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  try {
    for await (const raw of stream as AsyncIterable<Buffer>) {
      const bytes: Uint8Array = raw;
      if (offset + bytes.length > limits.maxFileBytes) {
        throw new ReportError(file, `grew past the ${mib(limits.maxFileBytes)} report size limit while being read: is the test run still writing it?`);
      }
      if (decoder === undefined) {
        decoder = new TextDecoder(encodingOf(bytes), { fatal: true, ignoreBOM: false });
      }
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: true });
      } catch {
        if (!fatal) throw new ReportError(file, 'cannot be decoded as text');
        fatal = false;
        // Decode the whole chunk again leniently; earlier chunks decoded cleanly.
        decoder = new TextDecoder(decoder.encoding, { fatal: false, ignoreBOM: offset > 0 });
        text = decoder.decode(bytes, { stream: true });
        const at = offset + firstBadByte(text, decoder.encoding);
        warn(`${file}: not valid ${decoder.encoding.toUpperCase()} from byte ${at} on; undecodable bytes were replaced with U+FFFD: check the encoding the test tool writes`);
      }
      offset += raw.length;
      if (text.length > 0) yield text;
    }
    const tail = decoder?.decode() ?? '';
    if (tail.length > 0) yield tail;
  } finally {
    stream.destroy();
  }
}

/**
 * The encoding from a byte order mark, or, without one, from the zero bytes UTF-16 puts beside
 * the ASCII of `<` or `{` (.NET and PowerShell tools write UTF-16 with no mark).
 */
export function encodingOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) return 'utf-16le';
  if (bytes.length >= 2 && bytes[0] === 0 && bytes[1] !== 0) return 'utf-16be';
  return 'utf-8';
}

/** Offset in the chunk of the first undecodable byte: the bytes that decoded to the text before the first U+FFFD. */
function firstBadByte(text: string, encoding: string): number {
  const at = text.indexOf('\uFFFD');
  const before = text.slice(0, Math.max(0, at));
  return encoding === 'utf-8' ? Buffer.byteLength(before, 'utf8') : before.length * 2;
}
