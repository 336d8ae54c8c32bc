import { RecoveryLog } from './recovery.ts';

/** Input the guard refuses outright; the reader turns it into a ReportError naming the file. */
export class XmlGuardError extends Error {
  readonly kind: 'doctype' | 'html' | 'tag-too-long' | 'pi-too-long';

  constructor(kind: XmlGuardError['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}

export const cutMarker = 'kubeflake-cut';
const textCut = `<?${cutMarker}?>`;
const attrCut = `<?${cutMarker} attr?>`;

const TEXT = 0;
const LT = 1;
const TAG = 2;
const ATTR = 3;
const COMMENT = 4;
const CDATA = 5;
const PI = 6;
/** The name of a start tag, held back until complete (an unclosed <testcase> is closed before it). */
const NAME = 7;
/** A closing tag, held back whole: it is matched against the open elements before saxes sees it. */
const CLOSE = 8;

/** Longest entity reference kept whole when a run is cut inside one. */
const maxEntityChars = 32;

/** Elements whose text kubeflake only skims (captured output). */
const outputElement = /^(system-out|system-err)$/;

/** A reference XML 1.0 accepts: the five predefined entities or a character reference. */
const entityRef = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([\da-fA-F]{1,6}));/y;
const namedRef = /&[\w.:-]{1,32};/y;
/** Characters XML 1.0 forbids even escaped (C0 controls but tab, newline, carriage return; U+FFFE/F). */
export const forbiddenChars = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;
/** What may follow `<` in markup; anything else is a bare `<` in text. */
const markupStart = /[A-Za-z_:/!?\u00C0-\uFFFD]/;
/** Nothing a test tool writes nests deeper than this; the reader refuses deeper documents itself. */
const maxOpen = 4096;

export function allowedCodePoint(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/**
 * Sits between the decoded text and saxes. saxes buffers every text node, CDATA section, comment
 * and attribute value whole before handing it over, so one 200 MB <system-out> would be held in
 * memory whole; the guard cuts each of those runs at the text cap before saxes sees them, and
 * marks the cut with a processing instruction (`<?kubeflake-cut?>` after text or CDATA,
 * `<?kubeflake-cut attr?>` after a tag whose attribute was cut) that the reader turns into
 * `Failure.truncated`. Captured output (<system-out>/<system-err>) is only skimmed for the lines
 * the reader needs, comments are dropped. It refuses DOCTYPE/ENTITY declarations outright, so no
 * entity is ever declared, let alone expanded (XXE, billion laughs), and bounds the size of a tag.
 *
 * It also repairs the damage real tools write, so one bad byte does not end the report: a bare
 * `&`, an undeclared entity or a character reference XML forbids (Surefire's ANSI `&#27;`) is
 * read as text, a `<` in an attribute value or in text is escaped, a forbidden control character
 * becomes U+FFFD, a closing tag that matches nothing is dropped, elements left open are closed
 * when an outer one or the next <testcase> begins, text after the root is dropped. Each repair
 * goes to `repairs` with its line and column in the decoded text.
 */
export class XmlGuard {
  readonly maxRun: number;
  readonly maxTag: number;
  readonly maxOutputRun: number;
  readonly repairs = new RecoveryLog();
  private state = TEXT;
  private quote = '';
  private carry = '';
  private out: string[] = [];
  /** Characters handed to saxes before the current chunk, and in it so far. */
  private outBefore = 0;
  private outLength = 0;
  /** Characters of the current text/CDATA/attribute run passed on so far. */
  private run = 0;
  private runCut = false;
  /** The last characters passed of a run that spans chunks, to finish an entity cut in half. */
  private tail = '';
  /** Characters still allowed past the cut to close an entity reference. */
  private entityBudget = 0;
  private tag = 0;
  private tagAttrCut = false;
  private pi = 0;
  /** Runs cut so far, for the report's warning. */
  cuts = 0;

  /** The current tag's name (start or closing tag) or instruction, read whole before it is passed on. */
  private name = '';
  /** The last character of the current start tag before `>`, to tell `<x/>` from `<x>`. */
  private lastTagChar = 0;
  /** Names of the open elements, outermost first. */
  private readonly open: string[] = [];
  /** A root element has been closed: another start tag at depth 0 is a second root. */
  private rootClosed = false;
  /** <testcase> start tags seen, complete or not: the reader compares them with the cases it kept. */
  caseTags = 0;
  /** The text being read is the content of a captured-output element. */
  private inOutput = false;

  /** The chunk being filtered (carry included) and where it starts in the decoded text. */
  private input = '';
  private lineBase = 0;
  private columnBase = 0;
  /** Where each markup start of the chunk went: output offset -> input index, to place saxes' errors. */
  private anchorsOut: number[] = [];
  private anchorsIn: number[] = [];
  /** Next `&` / `<` in the chunk at or after the last search (Infinity: none), so runs scan each once. */
  private nextAmp = -1;
  private nextLt = -1;
  /** Where the current tag's `<` is in this chunk (-1: in an earlier one), for repairs about the tag. */
  private tagStart = -1;

  /** Strings whose lines are passed from captured output; with none, output is passed up to maxOutputRun. */
  readonly skim: string[];

  constructor(maxRun: number, maxTag: number, maxOutputRun = maxRun, skim: string[] = []) {
    this.maxRun = maxRun;
    this.maxTag = maxTag;
    this.maxOutputRun = skim.length > 0 ? maxOutputRun : Math.min(maxOutputRun, maxRun);
    this.skim = skim;
  }

  /** Returns the text to hand to saxes for this chunk (possibly holding back a few characters). */
  filter(chunk: string): string {
    let s = this.carry.length > 0 ? this.carry + chunk : chunk;
    this.carry = '';
    this.out = [];
    this.outBefore += this.outLength;
    this.outLength = 0;
    this.anchorsOut = [];
    this.anchorsIn = [];
    this.nextAmp = -1;
    this.nextLt = -1;
    this.tagStart = -1;
    forbiddenChars.lastIndex = 0;
    if (forbiddenChars.test(s)) s = this.replaceForbidden(s);
    this.input = s;
    const text = this.step(s);
    this.advancePosition(s, s.length - this.carry.length);
    return text;
  }

  /** The open elements at the end of the input, outermost first: non-empty means the file was cut. */
  get openElements(): readonly string[] {
    return this.open;
  }

  /** Whether the input ended inside markup (a tag, comment, CDATA section...). */
  get insideMarkup(): boolean {
    return this.state !== TEXT || this.carry.length > 0;
  }

  /**
   * Line and column in the decoded text of an offset in what the guard handed to saxes (saxes'
   * `position` when it reports an error): the start of the last markup at or before it.
   */
  locateOutput(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.anchorsOut.length - 1;
    let at = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.anchorsOut[mid]! <= offset) {
        at = this.anchorsIn[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return this.positionIn(this.input, at, true);
  }

  private step(s: string): string {
    const n = s.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case TEXT: {
          const j = s.indexOf('<', i);
          if (j < 0 && this.skimming) {
            const keep = this.skimHoldFrom(s, i, n);
            if (keep > i) this.passRun(s, i, keep, true);
            return this.hold(s, keep);
          }
          let end = j < 0 ? n : j;
          // An entity reference may go on in the next chunk: hold it back to check it whole.
          const partial = j < 0 ? this.partialEntityFrom(s, i, n) : n;
          if (partial < end) end = partial;
          if (end > i) this.textRun(s, i, end);
          if (j < 0) return partial < n ? this.hold(s, partial) : this.flush();
          this.state = LT;
          i = j;
          break;
        }
        case LT: {
          // s[i] === '<': classify what follows, holding back until there is enough to tell.
          if (i + 1 >= n) return this.hold(s, i);
          const next = s.charCodeAt(i + 1);
          if (!markupStart.test(s[i + 1]!)) {
            // A bare `<` in text ("expected a < b"): it is text.
            if (!this.inOutput) this.repair(s, i, 'bare < read as text');
            if (!this.skimming) this.emit('&lt;');
            this.state = TEXT;
            i += 1;
            break;
          }
          if (this.runCut && !this.inOutput) this.emit(textCut);
          this.resetRun();
          this.anchor(i);
          this.tagStart = i;
          if (next === 0x21 /* ! */) {
            if (n - i < 9) {
              const head = s.slice(i);
              // Could still become a comment or a CDATA section: wait for the next chunk.
              if ('<!--'.startsWith(head) || '<![CDATA['.startsWith(head)) return this.hold(s, i);
            }
            if (s.startsWith('<!--', i)) {
              this.state = COMMENT;
              i += 4;
            } else if (s.startsWith('<![CDATA[', i)) {
              this.emit('<![CDATA[');
              this.state = CDATA;
              i += 9;
            } else {
              const head = s.slice(i, i + 20);
              if (/^<!DOCTYPE\s+html/i.test(head)) {
                throw new XmlGuardError('html', 'is an HTML page, not a test report (<!DOCTYPE html>): point kubeflake at the JUnit XML or Ginkgo JSON file');
              }
              throw new XmlGuardError('doctype', 'declares a DOCTYPE/ENTITY, which kubeflake refuses to process (entity expansion and external entities are a known attack): remove the declaration; JUnit reports never need one');
            }
          } else if (next === 0x3f /* ? */) {
            this.state = PI;
            this.pi = 0;
            this.name = '<?';
            i += 2;
          } else {
            this.inOutput = false;
            this.name = '';
            this.tag = 0;
            this.tagAttrCut = false;
            this.state = next === 0x2f /* / */ ? CLOSE : NAME;
            i += next === 0x2f ? 2 : 1;
            if (i >= n) return this.restartTag(s);
          }
          break;
        }
        case NAME: {
          const start = i;
          while (i < n && !isNameEnd(s.charCodeAt(i))) i++;
          this.name += s.slice(start, i);
          this.tag += i - start;
          this.checkTagLength();
          // A name split across chunks is read again whole from its `<`, so repairs point at the `<`.
          if (i >= n) return this.restartTag(s);
          this.startTag(s, this.tagStart);
          this.state = TAG;
          break;
        }
        case TAG: {
          const start = i;
          while (i < n) {
            const c = s.charCodeAt(i);
            if (c === 0x3e /* > */ || c === 0x22 /* " */ || c === 0x27 /* ' */) break;
            i++;
          }
          this.tag += i - start;
          this.checkTagLength();
          if (i > start) {
            this.emit(s.slice(start, i));
            this.lastTagChar = s.charCodeAt(i - 1);
          }
          if (i >= n) return this.flush();
          const c = s[i]!;
          this.emit(c);
          i++;
          if (c === '>') {
            if (this.tagAttrCut) this.emit(attrCut);
            this.endStartTag();
            this.state = TEXT;
          } else {
            this.quote = c;
            this.state = ATTR;
          }
          break;
        }
        case ATTR: {
          const j = s.indexOf(this.quote, i);
          let end = j < 0 ? n : j;
          const partial = j < 0 ? this.partialEntityFrom(s, i, n) : n;
          if (partial < end) end = partial;
          if (end > i) this.passRepaired(s, i, end, true);
          if (j < 0) return partial < n ? this.hold(s, partial) : this.flush();
          if (this.runCut) this.tagAttrCut = true;
          this.resetRun();
          this.emit(this.quote);
          this.lastTagChar = this.quote.charCodeAt(0);
          this.state = TAG;
          i = j + 1;
          break;
        }
        case CLOSE: {
          const j = s.indexOf('>', i);
          const end = j < 0 ? n : j;
          this.name += s.slice(i, end);
          this.tag += end - i;
          this.checkTagLength();
          if (j < 0) return this.restartTag(s);
          this.closeTag(s, this.tagStart);
          this.state = TEXT;
          i = j + 1;
          break;
        }
        case COMMENT: {
          // Comments are dropped: nothing in them is kept, and saxes would buffer them whole.
          const j = s.indexOf('-->', i);
          if (j < 0) return this.hold(s, Math.max(i, n - 2));
          this.state = TEXT;
          i = j + 3;
          break;
        }
        case CDATA: {
          const j = s.indexOf(']]>', i);
          if (j < 0) {
            const keep = this.skimming ? Math.min(Math.max(i, n - 2), this.skimHoldFrom(s, i, n)) : Math.max(i, n - 2);
            if (keep > i) this.passRun(s, i, keep, false);
            return this.hold(s, keep);
          }
          if (j > i) this.passRun(s, i, j, false);
          this.emit(']]>');
          if (this.runCut && !this.inOutput) this.emit(textCut);
          this.resetRun();
          this.state = TEXT;
          i = j + 3;
          break;
        }
        case PI: {
          const j = s.indexOf('?>', i);
          const end = j < 0 ? Math.max(i, n - 1) : j;
          this.pi += end - i;
          if (this.pi > this.maxTag) {
            throw new XmlGuardError('pi-too-long', `has a processing instruction longer than ${this.maxTag} characters: this is not a report a test tool writes`);
          }
          this.name += s.slice(i, end);
          if (j < 0) return this.hold(s, end);
          this.instruction(s, this.tagStart >= 0 ? this.tagStart : i);
          this.state = TEXT;
          i = j + 2;
          break;
        }
      }
    }
    return this.flush();
  }

  private restartTag(s: string): string {
    if (this.tagStart < 0) return this.flush();
    this.state = LT;
    return this.hold(s, this.tagStart);
  }

  /** A start tag's name is complete: close what it implies, then pass `<name` on. */
  private startTag(s: string, at: number): void {
    const name = this.name;
    if (name === 'testcase') {
      this.caseTags++;
      // Test cases never nest: an open one was left unclosed (resync at the next case).
      const open = this.open.lastIndexOf('testcase');
      if (open >= 0) this.closeDownTo(open, s, at, '<testcase> not closed before the next one; closed it there');
    }
    if (this.open.length === 0 && this.rootClosed) {
      this.repair(s, at, `a second root element <${clip(name)}> after the report's end; read it too`);
      this.rootClosed = false;
    }
    this.emit('<' + name);
    this.lastTagChar = 0;
  }

  private endStartTag(): void {
    if (this.lastTagChar === 0x2f /* / */) {
      if (this.open.length === 0) this.rootClosed = true;
      return;
    }
    if (this.open.length < maxOpen) this.open.push(this.name);
    // Skipping most of the captured output is where the speed comes from: saxes never sees it.
    this.inOutput = outputElement.test(this.name);
  }

  /** A whole closing tag `</name ...>`: matched against the open elements. */
  private closeTag(s: string, at: number): void {
    const name = this.name.trim();
    const open = this.open.lastIndexOf(name);
    if (open < 0) {
      this.repair(s, at, `closing tag </${clip(name)}> matches no open element; dropped`);
      return;
    }
    if (open < this.open.length - 1) {
      this.closeDownTo(open + 1, s, at, `<${clip(this.open[this.open.length - 1]!)}> not closed before </${clip(name)}>; closed it there`);
    }
    this.open.pop();
    this.emit(`</${name}>`);
    if (this.open.length === 0) this.rootClosed = true;
  }

  /** Emits closing tags for the open elements from `depth` inward, noting one repair. */
  private closeDownTo(depth: number, s: string, at: number, what: string): void {
    this.repair(s, at, what);
    while (this.open.length > depth) this.emit(`</${this.open.pop()}>`);
  }

  private instruction(s: string, at: number): void {
    const body = this.name;
    // A second report appended to the first repeats its XML declaration: saxes would stop there.
    if (/^<\?xml[\s?]/.test(body + '?') && (this.rootClosed || this.open.length > 0)) {
      this.repair(s, at, 'XML declaration in the middle of the file; dropped');
      return;
    }
    this.emit(body + '?>');
  }

  /** Text between tags; after the root only whitespace is expected. */
  private textRun(s: string, from: number, to: number): void {
    if (this.open.length === 0 && this.rootClosed) {
      if (s.slice(from, to).trim() !== '') this.repair(s, from, "text after the report's root element; dropped");
      return;
    }
    this.passRepaired(s, from, to, false);
  }

  /** Passes a text or attribute run with bare `&`s and forbidden references turned into text. */
  private passRepaired(s: string, from: number, to: number, attribute: boolean): void {
    if (this.skimming) {
      this.passRun(s, from, to, true);
      return;
    }
    const amp = this.ampAt(s, from);
    const lt = attribute ? this.ltAt(s, from) : Infinity;
    if (amp >= to && lt >= to) {
      this.passRun(s, from, to, true);
      return;
    }
    const pieces: string[] = [];
    let k = from;
    let next = Math.min(amp, lt);
    while (next < to) {
      pieces.push(s.slice(k, next));
      if (s.charCodeAt(next) === 0x3c /* < */) {
        if (!this.inOutput) this.repair(s, next, '< in an attribute value read as text');
        pieces.push('&lt;');
        k = next + 1;
      } else {
        const end = this.checkEntity(s, next);
        pieces.push(end > next ? s.slice(next, end) : '&amp;');
        k = end > next ? end : next + 1;
      }
      next = Math.min(this.ampAt(s, k), attribute ? this.ltAt(s, k) : Infinity);
    }
    pieces.push(s.slice(k, to));
    const fixed = pieces.join('');
    this.passRun(fixed, 0, fixed.length, true, to === s.length);
  }

  /** End of the well-formed reference at s[k] === '&', or k when it must be read as text (noted). */
  private checkEntity(s: string, k: number): number {
    entityRef.lastIndex = k;
    const m = entityRef.exec(s);
    if (m) {
      if (m[1] !== undefined) return entityRef.lastIndex;
      const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3]!, 16);
      if (allowedCodePoint(code)) return entityRef.lastIndex;
      if (!this.inOutput) this.repair(s, k, `character reference ${m[0]} is not allowed in XML 1.0; read as text`);
      return k;
    }
    namedRef.lastIndex = k;
    const named = namedRef.exec(s);
    if (!this.inOutput) this.repair(s, k, named ? `undeclared entity ${named[0]} read as text` : 'bare & read as text');
    return k;
  }

  private ampAt(s: string, from: number): number {
    if (this.nextAmp < from) {
      const at = s.indexOf('&', from);
      this.nextAmp = at < 0 ? Infinity : at;
    }
    return this.nextAmp;
  }

  private ltAt(s: string, from: number): number {
    if (this.nextLt < from) {
      const at = s.indexOf('<', from);
      this.nextLt = at < 0 ? Infinity : at;
    }
    return this.nextLt;
  }

  /** Where a reference that may continue in the next chunk starts (n when there is none). */
  private partialEntityFrom(s: string, from: number, n: number): number {
    const amp = s.lastIndexOf('&', n - 1);
    if (amp < from || amp < n - maxEntityChars) return n;
    return s.indexOf(';', amp) < 0 ? amp : n;
  }

  private replaceForbidden(s: string): string {
    return s.replace(forbiddenChars, (c: string, at: number) => {
      const code = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      this.repair(s, at, `control character U+${code} is not allowed in XML; replaced with U+FFFD`);
      return '\uFFFD';
    });
  }

  private repair(s: string, at: number, what: string): void {
    this.repairs.add(what, () => this.positionIn(s, at));
  }

  private checkTagLength(): void {
    if (this.tag > this.maxTag) {
      throw new XmlGuardError('tag-too-long', `has a tag longer than ${this.maxTag} characters (not counting attribute values): this is not a report a test tool writes`);
    }
  }

  /** 1-based line and column of s[at], s being the chunk being filtered (or, done, the last one). */
  private positionIn(s: string, at: number, done = false): { line: number; column: number } {
    let line = done ? this.lastLineBase : this.lineBase;
    const columnBase = done ? this.lastColumnBase : this.columnBase;
    let lineStart = -1;
    for (let k = s.indexOf('\n'); k >= 0 && k < at; k = s.indexOf('\n', k + 1)) {
      line++;
      lineStart = k;
    }
    return { line: line + 1, column: (lineStart < 0 ? columnBase + at : at - lineStart - 1) + 1 };
  }

  /** Where the last chunk filtered began, for locateOutput after the position moved past it. */
  private lastLineBase = 0;
  private lastColumnBase = 0;

  /** Moves the position past s[0, consumed): the rest is carried into the next chunk. */
  private advancePosition(s: string, consumed: number): void {
    this.lastLineBase = this.lineBase;
    this.lastColumnBase = this.columnBase;
    let lineStart = -1;
    for (let k = s.indexOf('\n'); k >= 0 && k < consumed; k = s.indexOf('\n', k + 1)) {
      this.lineBase++;
      lineStart = k;
    }
    this.columnBase = lineStart < 0 ? this.columnBase + consumed : consumed - lineStart - 1;
  }

  private anchor(inputIndex: number): void {
    this.anchorsOut.push(this.outBefore + this.outLength);
    this.anchorsIn.push(inputIndex);
  }

  private emit(piece: string): void {
    this.out.push(piece);
    this.outLength += piece.length;
  }

  /**
   * Captured output is most of a Ginkgo JUnit report and kubeflake reads only a few lines of it,
   * so only the lines holding a skim string reach saxes (each followed by a newline); the rest is
   * never parsed. Scans at most maxOutputRun characters of the element.
   */
  private skimRun(s: string, from: number, to: number): void {
    const budget = this.maxOutputRun - this.run;
    if (budget <= 0) return;
    const end = Math.min(to, from + budget);
    this.run += end - from;
    skimWindows(s.slice(from, end), this.skim, (line) => {
      this.emit(line);
      this.emit('\n');
    });
  }

  private get skimming(): boolean {
    return this.inOutput && this.skim.length > 0;
  }

  /** Where to hold back captured output at a chunk's end so a skimmed line is never split. */
  private skimHoldFrom(s: string, i: number, n: number): number {
    const floor = Math.max(i, n - 2048);
    const tail = s.slice(floor, n);
    const at = Math.max(tail.lastIndexOf('\n'), tail.lastIndexOf('&#xA;'));
    return at >= 0 ? floor + at : floor;
  }

  private hold(s: string, from: number): string {
    this.carry = s.slice(from);
    return this.flush();
  }

  private flush(): string {
    const text = this.out.length === 1 ? this.out[0]! : this.out.join('');
    this.out = [];
    return text;
  }

  private resetRun(): void {
    this.run = 0;
    this.runCut = false;
    this.tail = '';
    this.entityBudget = 0;
  }

  /** Passes s[from, to) of a text, CDATA or attribute run, up to the cap. */
  private passRun(s: string, from: number, to: number, entities: boolean, continues = to === s.length): void {
    if (this.inOutput && this.skim.length > 0) {
      this.skimRun(s, from, to);
      return;
    }
    const cap = this.inOutput ? this.maxOutputRun : this.maxRun;
    const room = cap - this.run;
    if (!this.runCut && to - from <= room) {
      this.emit(s.slice(from, to));
      this.run += to - from;
      // The run goes on in the next chunk: remember its end in case the cut falls right after it.
      if (entities && continues) {
        this.tail = (this.tail + s.slice(Math.max(from, to - maxEntityChars), to)).slice(-maxEntityChars);
      }
      return;
    }
    let keptTo = from;
    if (!this.runCut) {
      keptTo = from + Math.max(0, room);
      if (keptTo > from) this.emit(s.slice(from, keptTo));
      this.run = cap;
      this.runCut = true;
      if (!this.inOutput) this.cuts++;
      if (entities) {
        // Never leave half an entity reference behind: saxes would reject `&am<`.
        const tail = (this.tail + s.slice(Math.max(from, keptTo - maxEntityChars), keptTo)).slice(-maxEntityChars);
        const amp = tail.lastIndexOf('&');
        this.entityBudget = amp >= 0 && !tail.includes(';', amp) ? maxEntityChars - (tail.length - amp) : 0;
      }
    }
    if (this.entityBudget > 0) {
      const limit = Math.min(to, keptTo + this.entityBudget);
      const semi = s.slice(keptTo, limit).indexOf(';');
      if (semi >= 0) {
        this.emit(s.slice(keptTo, keptTo + semi + 1));
        this.entityBudget = 0;
      } else {
        this.emit(s.slice(keptTo, limit));
        this.entityBudget = limit < to ? 0 : this.entityBudget - (limit - keptTo);
      }
    }
  }
}

/**
 * The lines of captured output that hold a skim string, each from just before the string to the
 * end of its line (at most 1024 characters), made safe for saxes: every occurrence of the first
 * string, then of the next. Shared by the guard and the strict reader, so both pass the same lines.
 */
export function skimWindows(run: string, skim: readonly string[], emit: (line: string) => void): void {
  for (const needle of skim) {
    let k = run.indexOf(needle);
    while (k >= 0) {
      let stop = Math.min(run.length, k + 1024);
      const escaped = run.indexOf('&#xA;', k);
      const newline = run.indexOf('\n', k);
      if (escaped >= 0 && escaped < stop) stop = escaped;
      if (newline >= 0 && newline < stop) stop = newline;
      // Starts at the "&gt; " or "> " before the needle; never ends inside an entity reference.
      let window = run.slice(Math.max(0, k - 5), stop);
      const amp = window.lastIndexOf('&');
      if (amp >= 0 && !window.includes(';', amp)) window = window.slice(0, amp);
      emit(textOnly(window));
      k = run.indexOf(needle, stop);
    }
  }
}

function isNameEnd(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f /* / */ || c === 0x3e /* > */ || c === 0x22 || c === 0x27;
}

function clip(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

/** A skimmed line of captured output, made safe for saxes without noting repairs: it is not kept. */
function textOnly(window: string): string {
  if (!window.includes('&') && !window.includes('<')) return window;
  return window.replace(/<|&(?:(?:amp|lt|gt|quot|apos);|#(\d{1,7});|#x([\da-fA-F]{1,6});)?/g, (m, dec?: string, hex?: string) => {
    if (m === '<') return '&lt;';
    if (m === '&') return '&amp;';
    if (dec === undefined && hex === undefined) return m;
    return allowedCodePoint(dec !== undefined ? Number(dec) : parseInt(hex!, 16)) ? m : '&amp;' + m.slice(1);
  });
}
