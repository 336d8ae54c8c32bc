/** Bounds that keep parsing a hostile or huge report within memory and time. */
export interface ParseLimits {
  /** Largest report accepted, in bytes. */
  maxFileBytes: number;
  /** Longest text kept per field (failure text, message, output), in characters. */
  maxTextChars: number;
  /** Captured output (system-out/err) scanned per element, in characters: only skimmed for Ginkgo's timeline lines. */
  maxOutputChars: number;
  /** Deepest element/array nesting accepted. */
  maxDepth: number;
  /** Longest start tag accepted, attribute values excluded (they are capped like text). */
  maxTagChars: number;
}

export const defaultLimits: ParseLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxTextChars: 64 * 1024,
  maxOutputChars: 1024 * 1024,
  maxDepth: 256,
  maxTagChars: 1024 * 1024,
};

export type ParseOptions = Partial<ParseLimits>;

export function resolveLimits(options: ParseOptions | undefined): ParseLimits {
  return { ...defaultLimits, ...options };
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;
}

export function kib(chars: number): string {
  return `${Math.round(chars / 1024)} KiB`;
}
