/**
 * Sits between the decoded text and saxes. saxes buffers every text node, CDATA section, comment
 * and attribute value whole before handing it over, so one 200 MB <system-out> would be held in
 * memory twice; the guard cuts each of those runs at the text cap before saxes sees them, and
 * marks the cut with a processing instruction (`<?kubeflake-cut?>` after text or CDATA,
 * `<?kubeflake-cut attr?>` after a tag whose attribute was cut) that the reader turns into
 * `Failure.truncated`. It also refuses DOCTYPE/ENTITY declarations outright, so no entity is
 * ever declared, let alone expanded (XXE, billion laughs), and bounds the size of a tag.
 */
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

export class XmlGuard {
  readonly maxRun: number;
  readonly maxTag: number;
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

  constructor(maxRun: number, maxTag: number) {
    this.maxRun = maxRun;
    this.maxTag = maxTag;
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
          const end = j < 0 ? n : j;
          if (end > i) this.passRun(s, i, end, true);
          if (j < 0) return this.flush();
          if (this.runCut) this.out.push(textCut);
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
            const keep = Math.max(i, n - 2);
            if (keep > i) this.passRun(s, i, keep, false);
            return this.hold(s, keep);
          }
          if (j > i) this.passRun(s, i, j, false);
          this.out.push(']]>');
          if (this.runCut) this.out.push(textCut);
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
    const room = this.maxRun - this.run;
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
      this.run = this.maxRun;
      this.runCut = true;
      this.cuts++;
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
