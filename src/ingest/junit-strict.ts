// The fast path for JUnit XML: most reports are well-formed, and for them the guard (which
// repairs, cuts and locates) and saxes (which checks every character) are work for nothing. This
// reader scans a well-formed document with indexOf and sticky regexps and feeds the same
// JUnitDocument the recovering reader feeds. It gives up, returning undefined, at the first thing
// the guard would have to touch (damage, a DOCTYPE, a processing instruction, a text run past its
// cap, a file cut short) or that saxes would report: the file is then read again from its start by
// the recovering reader (parseJUnitXml), so every repair, cut, line/column and refusal is exactly
// what that reader says. Recovery costs only the files that need it.

import { ReportError } from './report-error.ts';
import type { ParseLimits } from './limits.ts';
import { JUnitDocument, type StreamedReport } from './junit-xml.ts';
import { RecoveryLog } from './recovery.ts';
import { allowedCodePoint, forbiddenChars, skimWindows } from './xml-guard.ts';
import { ginkgoTimelineMarks } from './ginkgo-names.ts';

/** Thrown inside the reader when the document needs the recovering reader; never escapes it. */
class HandOver extends Error {}

const entityAt = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([\da-fA-F]{1,6}));/y;
const xmlDeclaration = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.0\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][\w.-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>$/;
const xmlSpace = /^[ \t\r\n]*$/;
const outputElement = /^(system-out|system-err)$/;
const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Longest construct held back across chunks before the reader hands over (a tag, a comment...). */
const maxHeld = 4 * 1024 * 1024;

/**
 * Reads a well-formed JUnit document from decoded chunks into a report (its cases made as they
 * are taken), or returns undefined when it must be read in recovery mode (readJUnitXml) instead.
 */
export async function readWellFormedJUnit(file: string, chunks: AsyncIterable<string>, limits: ParseLimits): Promise<StreamedReport | undefined> {
  const reader = new StrictReader(new JUnitDocument(file, limits, new RecoveryLog()), limits);
  try {
    for await (const chunk of chunks) reader.write(chunk);
    return reader.end();
  } catch (err) {
    // A ReportError from the document (not a report, nested too deep) is thrown again by the recovering
    // reader, or an earlier refusal of the guard's is: that reader decides which the file gets.
    if (err instanceof HandOver || err instanceof ReportError) return undefined;
    throw err;
  }
}

class StrictReader {
  private readonly document: JUnitDocument;
  private readonly maxRun: number;
  private readonly maxTag: number;
  private readonly maxOutputRun: number;
  private carry = '';
  private readonly open: string[] = [];
  private started = false;
  private rootClosed = false;
  private caseTags = 0;
  /** Raw characters of the current text run (the guard cuts a run past maxRun: hand over). */
  private run = 0;
  /** Inside a captured-output element: its text is only skimmed, as the guard does. */
  private inOutput = false;
  /** Inside a CDATA section of captured output, which may be long: skimmed as it comes. */
  private inCdata = false;
  private outputParts: string[] = [];
  private outputLength = 0;

  constructor(document: JUnitDocument, limits: ParseLimits) {
    this.document = document;
    this.maxRun = limits.maxTextChars;
    this.maxTag = limits.maxTagChars;
    this.maxOutputRun = limits.maxOutputChars;
  }

  write(chunk: string): void {
    forbiddenChars.lastIndex = 0;
    if (forbiddenChars.test(chunk)) throw new HandOver();
    const s = this.carry.length > 0 ? this.carry + chunk : chunk;
    this.carry = '';
    const held = this.step(s);
    if (held < s.length) {
      if (s.length - held > maxHeld) throw new HandOver();
      this.carry = s.slice(held);
    }
  }

  end(): StreamedReport {
    if (this.inCdata) throw new HandOver();
    if (this.carry.length > 0) this.text(this.carry, 0, this.carry.length, true);
    // Cut short, or no root at all: the recovering reader says which and keeps what it can.
    if (this.open.length > 0 || !this.rootClosed) throw new HandOver();
    return this.document.finishStreamed({ openElements: [], insideMarkup: false, caseTags: this.caseTags, cuts: 0 });
  }

  /** Reads s as far as it can; returns where the part held back for the next chunk begins. */
  private step(s: string): number {
    const n = s.length;
    let i = 0;
    while (i < n) {
      if (this.inCdata) {
        const end = s.indexOf(']]>', i);
        if (end < 0) {
          // "]]" may be the start of the end marker.
          const keep = Math.max(i, n - 2);
          this.addOutput(s.slice(i, keep));
          return keep;
        }
        this.addOutput(s.slice(i, end));
        this.flushOutput(true);
        this.inCdata = false;
        i = end + 3;
        continue;
      }
      const lt = s.indexOf('<', i);
      if (lt < 0) return this.text(s, i, n, false);
      if (lt > i) {
        const held = this.text(s, i, lt, false);
        if (held < lt) throw new HandOver();
      }
      if (lt + 1 >= n) return lt;
      const next = s.charCodeAt(lt + 1);
      let after: number;
      if (next === 0x2f /* / */) after = this.closeTag(s, lt);
      else if (next === 0x21 /* ! */) after = this.bang(s, lt);
      else if (next === 0x3f /* ? */) after = this.declaration(s, lt);
      else after = this.startTag(s, lt);
      if (after < 0) return lt;
      this.started = true;
      i = after;
    }
    return n;
  }

  /**
   * Text s[from, to): its raw length counts towards the run's cap; entities are decoded, line ends
   * normalised as saxes does. A reference, `\r` or `]` that may go on in the next chunk is held back
   * unless this is the end of the input. Returns where the held part begins (to when none).
   */
  private text(s: string, from: number, to: number, last: boolean): number {
    let end = to;
    if (!last && to === s.length) {
      const amp = s.lastIndexOf('&', to - 1);
      if (amp >= from && s.indexOf(';', amp) < 0) end = amp;
      while (end > from && (s.charCodeAt(end - 1) === 0x0d || s.charCodeAt(end - 1) === 0x5d /* ] */)) end--;
    }
    if (end <= from) return from;
    this.started = true;
    if (this.inOutput) {
      this.addOutput(s.slice(from, end));
      return end;
    }
    this.run += end - from;
    if (this.run > this.maxRun) throw new HandOver();
    let raw = s.slice(from, end);
    if (this.open.length === 0) {
      // Before the root saxes allows only XML's whitespace; after it the guard drops what trim() does and repairs the rest.
      if (this.rootClosed ? raw.trim() !== '' : !xmlSpace.test(raw)) throw new HandOver();
      return end;
    }
    if (raw.includes(']]>')) throw new HandOver();
    if (raw.includes('\r')) raw = raw.replace(/\r\n?/g, '\n');
    this.document.text(raw.includes('&') ? decode(raw) : raw);
    return end;
  }

  private addOutput(raw: string): void {
    const room = this.maxOutputRun - this.outputLength;
    if (room <= 0 || raw.length === 0) return;
    const kept = raw.length > room ? raw.slice(0, room) : raw;
    this.outputParts.push(kept);
    this.outputLength += kept.length;
  }

  /** The guard passes only the skimmed lines of captured output; so does this reader. */
  private flushOutput(cdata: boolean): void {
    if (this.outputParts.length === 0) return;
    let raw = this.outputParts.length === 1 ? this.outputParts[0]! : this.outputParts.join('');
    this.outputParts = [];
    this.outputLength = 0;
    let lines = '';
    skimWindows(raw, ginkgoTimelineMarks, (window) => {
      lines += window + '\n';
    });
    if (lines === '') return;
    if (lines.includes('\r')) lines = lines.replace(/\r\n?/g, '\n');
    raw = cdata ? lines : decode(lines);
    this.document.text(raw);
  }

  private closeTag(s: string, lt: number): number {
    const gt = s.indexOf('>', lt + 2);
    if (gt < 0) {
      if (s.length - lt > this.maxTag) throw new HandOver();
      return -1;
    }
    const nameEnd = nameEndAt(s, lt + 2);
    if (nameEnd === lt + 2 || skipSpace(s, nameEnd) !== gt) throw new HandOver();
    const name = s.slice(lt + 2, nameEnd);
    if (this.open[this.open.length - 1] !== name) throw new HandOver();
    if (this.inOutput) {
      this.flushOutput(false);
      this.inOutput = false;
    }
    this.open.pop();
    this.document.close();
    if (this.open.length === 0) this.rootClosed = true;
    this.run = 0;
    return gt + 1;
  }

  /** `<!--`, `<![CDATA[`; anything else (a DOCTYPE) is the recovering reader's to refuse. */
  private bang(s: string, lt: number): number {
    if (s.length - lt < 9) {
      const head = s.slice(lt);
      if ('<!--'.startsWith(head) || '<![CDATA['.startsWith(head)) return -1;
    }
    if (s.startsWith('<!--', lt)) {
      const end = s.indexOf('-->', lt + 4);
      if (end < 0) return -1;
      if (this.inOutput) this.flushOutput(false);
      this.run = 0;
      return end + 3;
    }
    if (!s.startsWith('<![CDATA[', lt)) throw new HandOver();
    if (this.open.length === 0) throw new HandOver();
    if (this.inOutput) {
      this.flushOutput(false);
      this.inCdata = true;
      this.run = 0;
      return lt + 9;
    }
    const end = s.indexOf(']]>', lt + 9);
    if (end < 0) {
      if (s.length - lt > this.maxRun + 9) throw new HandOver();
      return -1;
    }
    let content = s.slice(lt + 9, end);
    if (content.length > this.maxRun) throw new HandOver();
    if (content.includes('\r')) content = content.replace(/\r\n?/g, '\n');
    this.document.text(content);
    this.run = 0;
    return end + 3;
  }

  /** Only the XML declaration, first in the file; any other instruction goes to the recovering reader. */
  private declaration(s: string, lt: number): number {
    const end = s.indexOf('?>', lt + 2);
    if (end < 0) {
      if (s.length - lt > this.maxTag) throw new HandOver();
      return -1;
    }
    if (this.started || !xmlDeclaration.test(s.slice(lt, end + 2))) throw new HandOver();
    return end + 2;
  }

  private startTag(s: string, lt: number): number {
    let i = nameEndAt(s, lt + 1);
    if (i === lt + 1) throw new HandOver();
    const name = s.slice(lt + 1, i);
    const n = s.length;
    const attrs: Record<string, string> = {};
    // Characters of attribute values: the guard's tag limit leaves them out.
    let values = 0;
    for (;;) {
      const spaced = isSpace(s.charCodeAt(i));
      i = skipSpace(s, i);
      if (i - lt - values > this.maxTag) throw new HandOver();
      if (i >= n) return this.incompleteTag(s, lt);
      const c = s.charCodeAt(i);
      if (c === 0x3e /* > */) {
        this.openElement(name, attrs, false);
        return i + 1;
      }
      if (c === 0x2f /* / */) {
        if (i + 1 >= n) return this.incompleteTag(s, lt);
        if (s.charCodeAt(i + 1) !== 0x3e) throw new HandOver();
        this.openElement(name, attrs, true);
        return i + 2;
      }
      if (!spaced) throw new HandOver();
      const attrEnd = nameEndAt(s, i);
      if (attrEnd === i) throw new HandOver();
      const attr = s.slice(i, attrEnd);
      i = skipSpace(s, attrEnd);
      if (i >= n) return this.incompleteTag(s, lt);
      if (s.charCodeAt(i) !== 0x3d /* = */) throw new HandOver();
      i = skipSpace(s, i + 1);
      if (i >= n) return this.incompleteTag(s, lt);
      const quote = s[i];
      if (quote !== '"' && quote !== "'") throw new HandOver();
      const close = s.indexOf(quote, i + 1);
      if (close < 0) return this.incompleteTag(s, lt);
      values += close - i - 1;
      if (close - i - 1 > this.maxRun) throw new HandOver();
      if (attr in attrs) throw new HandOver();
      attrs[attr] = attributeValue(s.slice(i + 1, close));
      i = close + 1;
    }
  }

  private incompleteTag(s: string, lt: number): number {
    if (s.length - lt > this.maxTag) throw new HandOver();
    return -1;
  }

  private openElement(name: string, attrs: Record<string, string>, empty: boolean): void {
    if (this.inOutput) throw new HandOver();
    if (this.open.length === 0 && this.rootClosed) throw new HandOver();
    if (name === 'testcase') {
      // The guard closes an unclosed case when the next begins: a repair, so the recovering reader's.
      if (this.open.includes('testcase')) throw new HandOver();
      this.caseTags++;
    }
    this.document.open(name, attrs);
    this.run = 0;
    if (empty) {
      this.document.close();
      if (this.open.length === 0) this.rootClosed = true;
      return;
    }
    this.open.push(name);
    this.inOutput = outputElement.test(name);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** End of the XML name at s[i] (i when there is none): ASCII names only; others go to the recovering reader. */
function nameEndAt(s: string, i: number): number {
  const n = s.length;
  if (i >= n) return i;
  const c = s.charCodeAt(i);
  // A-Z a-z _ :
  if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x3a)) return i;
  let j = i + 1;
  for (; j < n; j++) {
    const d = s.charCodeAt(j);
    // A-Z a-z 0-9 _ : . -
    if (!((d >= 0x41 && d <= 0x5a) || (d >= 0x61 && d <= 0x7a) || (d >= 0x30 && d <= 0x39) || d === 0x5f || d === 0x3a || d === 0x2e || d === 0x2d)) break;
  }
  return j;
}

/** An attribute value as saxes gives it: literal whitespace as spaces, references decoded. */
function attributeValue(raw: string): string {
  if (raw.includes('<')) throw new HandOver();
  let value = raw;
  if (/[\t\n\r]/.test(value)) value = value.replace(/\r\n|[\t\n\r]/g, ' ');
  return value.includes('&') ? decode(value) : value;
}

/** Text with its references decoded; a reference XML does not allow hands the file over. */
function decode(raw: string): string {
  let out = '';
  let from = 0;
  for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
    entityAt.lastIndex = amp;
    const m = entityAt.exec(raw);
    if (!m) throw new HandOver();
    let char: string;
    if (m[1] !== undefined) char = named[m[1]]!;
    else {
      const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3]!, 16);
      if (!allowedCodePoint(code)) throw new HandOver();
      char = String.fromCodePoint(code);
    }
    out += raw.slice(from, amp) + char;
    from = entityAt.lastIndex;
  }
  return out + raw.slice(from);
}
