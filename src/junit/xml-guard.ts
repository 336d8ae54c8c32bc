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

/** Longest entity reference kept whole when a run is cut inside one. */
const maxEntityChars = 32;

/** Elements whose text kubeflake only skims (captured output). */
const outputElement = /^(system-out|system-err)(\s|$)/;

/**
 * Sits between the decoded text and saxes. saxes buffers every text node, CDATA section, comment
 * and attribute value whole before handing it over, so one 200 MB <system-out> would be held in
 * memory whole; the guard cuts each of those runs at the text cap before saxes sees them, and
 * marks the cut with a processing instruction (`<?kubeflake-cut?>` after text or CDATA,
 * `<?kubeflake-cut attr?>` after a tag whose attribute was cut) that the reader turns into
 * `Failure.truncated`. Captured output (<system-out>/<system-err>) is only skimmed for the lines
 * the reader needs, comments are dropped. It refuses DOCTYPE/ENTITY declarations outright, so no
 * entity is ever declared, let alone expanded (XXE, billion laughs), and bounds the size of a tag.
 */
export class XmlGuard {
  readonly maxRun: number;
  readonly maxTag: number;
  readonly maxOutputRun: number;
  private state = TEXT;
  private quote = '';
  private carry = '';
  private out: string[] = [];
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

  /** Start of the current tag (its name), to notice <system-out>/<system-err>. */
  private tagHead = '';
  /** The text being read is the content of a captured-output element. */
  private inOutput = false;

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
    const s = this.carry.length > 0 ? this.carry + chunk : chunk;
    this.carry = '';
    this.out = [];
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
          const end = j < 0 ? n : j;
          if (end > i) this.passRun(s, i, end, true);
          if (j < 0) return this.flush();
          if (this.runCut && !this.inOutput) this.out.push(textCut);
          this.resetRun();
          this.state = LT;
          i = j;
          break;
        }
        case LT: {
          // s[i] === '<': classify what follows, holding back until there is enough to tell.
          const next = s.charCodeAt(i + 1);
          if (i + 1 >= n) return this.hold(s, i);
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
              this.out.push('<![CDATA[');
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
            this.out.push('<?');
            this.state = PI;
            this.pi = 0;
            i += 2;
          } else {
            this.out.push('<');
            this.state = TAG;
            this.inOutput = false;
            this.tagHead = '';
            this.tag = 0;
            this.tagAttrCut = false;
            i += 1;
          }
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
          if (this.tagHead.length < 12) this.tagHead += s.slice(start, Math.min(i, start + 12));
          if (this.tag > this.maxTag) {
            throw new XmlGuardError('tag-too-long', `has a tag longer than ${this.maxTag} characters (not counting attribute values): this is not a report a test tool writes`);
          }
          if (i > start) this.out.push(s.slice(start, i));
          if (i >= n) return this.flush();
          const c = s[i]!;
          this.out.push(c);
          i++;
          if (c === '>') {
            if (this.tagAttrCut) this.out.push(attrCut);
            // Skipping most of the captured output is where the speed comes from: saxes never sees it.
            this.inOutput = outputElement.test(this.tagHead) && s.charCodeAt(i - 2) !== 0x2f; /* not <x/> */
            this.state = TEXT;
          } else {
            this.quote = c;
            this.state = ATTR;
          }
          break;
        }
        case ATTR: {
          const j = s.indexOf(this.quote, i);
          const end = j < 0 ? n : j;
          if (end > i) this.passRun(s, i, end, true);
          if (j < 0) return this.flush();
          if (this.runCut) this.tagAttrCut = true;
          this.resetRun();
          this.out.push(this.quote);
          this.state = TAG;
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
          this.out.push(']]>');
          if (this.runCut && !this.inOutput) this.out.push(textCut);
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
          this.out.push(s.slice(i, end));
          if (j < 0) return this.hold(s, end);
          this.out.push('?>');
          this.state = TEXT;
          i = j + 2;
          break;
        }
      }
    }
    return this.flush();
  }

  /** Whether the input ended inside markup (a tag, comment, CDATA section...). */
  get insideMarkup(): boolean {
    return this.state !== TEXT || this.carry.length > 0;
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
    const run = s.slice(from, end);
    for (const needle of this.skim) {
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
        this.out.push(window, '\n');
        k = run.indexOf(needle, stop);
      }
    }
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
  private passRun(s: string, from: number, to: number, entities: boolean): void {
    if (this.inOutput && this.skim.length > 0) {
      this.skimRun(s, from, to);
      return;
    }
    const cap = this.inOutput ? this.maxOutputRun : this.maxRun;
    const room = cap - this.run;
    if (!this.runCut && to - from <= room) {
      this.out.push(s.slice(from, to));
      this.run += to - from;
      // The run goes on in the next chunk: remember its end in case the cut falls right after it.
      if (entities && to === s.length) {
        this.tail = (this.tail + s.slice(Math.max(from, to - maxEntityChars), to)).slice(-maxEntityChars);
      }
      return;
    }
    let keptTo = from;
    if (!this.runCut) {
      keptTo = from + Math.max(0, room);
      if (keptTo > from) this.out.push(s.slice(from, keptTo));
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
        this.out.push(s.slice(keptTo, keptTo + semi + 1));
        this.entityBudget = 0;
      } else {
        this.out.push(s.slice(keptTo, limit));
        this.entityBudget = limit < to ? 0 : this.entityBudget - (limit - keptTo);
      }
    }
  }
}
