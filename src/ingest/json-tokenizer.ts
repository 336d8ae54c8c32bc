/**
 * A streaming JSON tokenizer: fed text chunks, it reports structure and values as events, so a
 * large Ginkgo JSON report never has to be held (or JSON.parse'd) whole. Strings longer than the
 * cap are cut, numbers and nesting are bounded, so hostile input stays within memory.
 */
export type JsonScalar = string | number | boolean | null;

export interface JsonEvents {
  openObject(): void;
  closeObject(): void;
  openArray(): void;
  closeArray(): void;
  key(name: string): void;
  /** `cut` is true when a string was longer than the cap and was shortened. */
  value(value: JsonScalar, cut: boolean): void;
}

export class JsonSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at character ${offset}`);
    this.offset = offset;
  }
}

// What the tokenizer expects next.
const VALUE = 0;
const FIRST_KEY_OR_END = 1;
const KEY = 2;
const COLON = 3;
const COMMA_OR_END = 4;
const FIRST_VALUE_OR_END = 5;
const DONE = 6;

const maxNumberChars = 64;

export class JsonTokenizer {
  private readonly events: JsonEvents;
  private readonly maxString: number;
  private readonly maxDepth: number;
  private expect = VALUE;
  /** Open containers: true for objects, false for arrays. */
  private stack: boolean[] = [];
  private consumed = 0;
  // A token split across chunks.
  private inString = false;
  private stringIsKey = false;
  private parts: string[] = [];
  private stringLength = 0;
  private stringCut = false;
  private escape = '';
  private bare = '';
  private chunks = 0;
  private backslashChunk = -1;
  private backslashAt = -1;

  constructor(events: JsonEvents, maxString: number, maxDepth: number) {
    this.events = events;
    this.maxString = maxString;
    this.maxDepth = maxDepth;
  }

  get depth(): number {
    return this.stack.length;
  }

  get complete(): boolean {
    return this.expect === DONE && !this.inString && this.bare === '';
  }

  write(s: string): void {
    const n = s.length;
    this.chunks++;
    let i = 0;
    if (this.inString) i = this.continueString(s, 0);
    else if (this.bare !== '') i = this.continueBare(s, 0);
    while (i < n) {
      if (this.inString) {
        i = this.continueString(s, i);
        continue;
      }
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
        continue;
      }
      switch (this.expect) {
        case VALUE:
        case FIRST_VALUE_OR_END:
          if (c === 0x5d /* ] */ && this.expect === FIRST_VALUE_OR_END) {
            i++;
            this.close(false, i);
          } else {
            i = this.startValue(s, i, c);
          }
          break;
        case FIRST_KEY_OR_END:
        case KEY:
          if (c === 0x7d /* } */ && this.expect === FIRST_KEY_OR_END) {
            i++;
            this.close(true, i);
          } else if (c === 0x22 /* " */) {
            this.beginString(true);
            i = this.continueString(s, i + 1);
          } else {
            this.fail('expected a property name', i);
          }
          break;
        case COLON:
          if (c !== 0x3a /* : */) this.fail("expected ':'", i);
          this.expect = VALUE;
          i++;
          break;
        case COMMA_OR_END: {
          const inObject = this.stack[this.stack.length - 1];
          if (c === 0x2c /* , */) {
            this.expect = inObject ? KEY : VALUE;
            i++;
          } else if (c === (inObject ? 0x7d : 0x5d)) {
            i++;
            this.close(inObject === true, i);
          } else {
            this.fail(inObject ? "expected ',' or '}'" : "expected ',' or ']'", i);
          }
          break;
        }
        case DONE:
          this.fail('unexpected data after the end of the document', i);
      }
    }
    this.consumed += n;
  }

  /** Flushes a number at the very end of the input. Throws if the document is incomplete. */
  end(): void {
    if (this.bare !== '') this.finishBare(this.consumed);
    if (!this.complete) throw new JsonSyntaxError('unexpected end of input', this.consumed);
  }

  private fail(message: string, i: number): never {
    throw new JsonSyntaxError(message, this.consumed + i);
  }

  private startValue(s: string, i: number, c: number): number {
    if (c === 0x7b /* { */) {
      this.open(true, i);
      this.events.openObject();
      this.expect = FIRST_KEY_OR_END;
      return i + 1;
    }
    if (c === 0x5b /* [ */) {
      this.open(false, i);
      this.events.openArray();
      this.expect = FIRST_VALUE_OR_END;
      return i + 1;
    }
    if (c === 0x22 /* " */) {
      this.beginString(false);
      return this.continueString(s, i + 1);
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      return this.continueBare(s, i);
    }
    this.fail(`unexpected character '${String.fromCharCode(c)}'`, i);
  }

  private open(isObject: boolean, i: number): void {
    if (this.stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`, i);
    this.stack.push(isObject);
  }

  private close(isObject: boolean, i: number): void {
    this.stack.pop();
    if (isObject) this.events.closeObject();
    else this.events.closeArray();
    this.afterValue(i);
  }

  private afterValue(_i: number): void {
    this.expect = this.stack.length === 0 ? DONE : COMMA_OR_END;
  }

  private beginString(isKey: boolean): void {
    this.inString = true;
    this.stringIsKey = isKey;
    this.parts = [];
    this.stringLength = 0;
    this.stringCut = false;
    this.escape = '';
  }

  private addString(piece: string): void {
    const room = this.maxString - this.stringLength;
    if (piece.length <= room) {
      this.parts.push(piece);
      this.stringLength += piece.length;
    } else {
      if (room > 0) this.parts.push(piece.slice(0, room));
      this.stringLength = this.maxString;
      this.stringCut = true;
    }
  }

  /** Reads string content from s[i]; returns the index after the closing quote or s.length. */
  private continueString(s: string, i: number): number {
    const n = s.length;
    while (i < n) {
      if (this.escape !== '') {
        i = this.continueEscape(s, i);
        continue;
      }
      const q = s.indexOf('"', i);
      // The next backslash is cached per chunk so strings without escapes cost one scan in total.
      if (this.backslashChunk !== this.chunks || (this.backslashAt >= 0 && this.backslashAt < i)) {
        this.backslashChunk = this.chunks;
        this.backslashAt = s.indexOf('\\', i);
      }
      const b = this.backslashAt;
      const stop = b >= 0 && (q < 0 || b < q) ? b : q;
      if (stop < 0) {
        this.addString(s.slice(i));
        return n;
      }
      if (stop > i) this.addString(s.slice(i, stop));
      if (stop === q) {
        this.finishString(stop);
        return stop + 1;
      }
      this.escape = '\\';
      i = stop + 1;
    }
    return n;
  }

  private continueEscape(s: string, i: number): number {
    const c = s[i]!;
    if (this.escape === '\\') {
      const simple = simpleEscapes[c];
      if (simple !== undefined) {
        this.addString(simple);
        this.escape = '';
        return i + 1;
      }
      if (c !== 'u') this.fail(`invalid escape '\\${c}'`, i);
      this.escape = '\\u';
      return i + 1;
    }
    this.escape += c;
    if (!/^\\u[0-9a-fA-F]*$/.test(this.escape)) this.fail('invalid \\u escape', i);
    if (this.escape.length === 6) {
      // Surrogate halves are passed through as UTF-16 code units; pairs join up naturally.
      this.addString(String.fromCharCode(parseInt(this.escape.slice(2), 16)));
      this.escape = '';
    }
    return i + 1;
  }

  private finishString(i: number): void {
    this.inString = false;
    const value = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    if (this.stringIsKey) {
      this.events.key(value);
      this.expect = COLON;
    } else {
      this.events.value(value, this.stringCut);
      this.afterValue(i);
    }
  }

  /** Numbers and true/false/null, which may be split across chunks. */
  private continueBare(s: string, i: number): number {
    const n = s.length;
    let j = i;
    while (j < n && isBareChar(s.charCodeAt(j))) j++;
    this.bare += s.slice(i, j);
    if (this.bare.length > maxNumberChars) this.fail('number or literal too long', j);
    if (j < n) this.finishBare(j);
    return j;
  }

  private finishBare(i: number): void {
    const token = this.bare;
    this.bare = '';
    let value: JsonScalar;
    if (token === 'true') value = true;
    else if (token === 'false') value = false;
    else if (token === 'null') value = null;
    else if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(token)) value = Number(token);
    else this.fail(`invalid token '${token}'`, i);
    this.events.value(value, false);
    this.afterValue(i);
  }
}

const simpleEscapes: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function isBareChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45;
}
