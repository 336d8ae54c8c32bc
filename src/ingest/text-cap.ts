/** Collects text pieces up to a cap without concatenating in the hot path (report text, captured output). */
export class CappedText {
  private parts: string[] = [];
  private size = 0;
  private readonly max: number;
  truncated = false;

  constructor(max: number) {
    this.max = max;
  }

  add(piece: string): void {
    const room = this.max - this.size;
    if (room <= 0) {
      if (piece.length > 0) this.truncated = true;
      return;
    }
    if (piece.length > room) {
      this.parts.push(piece.slice(0, room));
      this.size = this.max;
      this.truncated = true;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  get length(): number {
    return this.size;
  }

  toString(): string {
    return this.parts.length === 1 ? own(this.parts[0]!) : this.parts.join('');
  }

  /** The text, followed by `mark` when something was cut. */
  toStringMarked(mark: string): string {
    return this.truncated ? this.toString() + mark : this.toString();
  }
}

/**
 * A copy of `s` that does not keep alive the chunk it was sliced from. V8 represents a slice of a
 * long string as a pointer into it, so one kept test name would pin a whole 256 KiB chunk.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
