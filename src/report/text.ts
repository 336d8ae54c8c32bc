// Escaping and formatting shared by the renderers. Every string that came from the test suite
// or the cluster (test names, messages, object names, commands) is untrusted: it goes through
// one of these before it reaches markdown, HTML, mermaid or a terminal.

/** C0/C1 control characters except tab and newline: they can move a terminal's cursor or hide text. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Replaces control and bidi-override characters with a visible escape (`\x1b`, `\u202e`). */
export function visibleControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One line: control characters made visible, line breaks shown as ⏎ so a name can't start a new block. */
export function oneLine(text: string): string {
  return visibleControls(text.replace(/\r\n|\r|\n/g, ' ⏎ ').replace(/\t/g, ' '));
}

/** Cuts to at most `max` characters (code points), ending with … when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Markdown punctuation that could start emphasis, links, code, tables, HTML, math or headings.
const MARKDOWN_SPECIAL = /[\\`*_[\]<>#!|~$&]/g;

/**
 * Untrusted text for GitHub markdown prose or table cells: one line, every markdown-active
 * character as a numeric entity (so `|` can't split a cell and `<` can't open a tag), and a
 * zero-width space after `@` and `#` so `@org/team` doesn't notify anyone and `#12` doesn't
 * cross-reference an issue.
 */
export function mdText(text: string): string {
  return oneLine(text)
    .replace(/@/g, '@\u200b')
    .replace(/#(?=\d)/g, '#\u200b')
    .replace(MARKDOWN_SPECIAL, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Untrusted text as inline code. `<code>` (not backticks) because a backtick span can't hold
 * `|` inside a table; GitHub doesn't look for mentions or issue references inside code.
 */
export function mdCode(text: string): string {
  const escaped = oneLine(text)
    .replace(MARKDOWN_SPECIAL, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/@/g, '&#64;');
  return `<code>${escaped}</code>`;
}

/** A fenced code block whose fence is longer than any backtick run inside, so content can't close it. */
export function mdFence(content: string, info = ''): string {
  const body = visibleControls(content.replace(/\r\n|\r/g, '\n'));
  const longest = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** A link target for markdown: only http(s) URLs, with characters that end a link target encoded. */
export function safeUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  return parsed.href.replace(/[()<>"' \\|`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * A mermaid node or edge label: everything but plain letters, digits and a few harmless
 * characters becomes a mermaid entity code (`#35;`), so a name can't end the string, the
 * statement, or the fenced block around the diagram.
 */
export function mermaidLabel(text: string): string {
  return Array.from(oneLine(text), (c) => (/[A-Za-z0-9 .,:/_=+-]/.test(c) ? c : `#${c.codePointAt(0)};`)).join('');
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/** 950 -> "950ms", 4200 -> "4.2s", 133000 -> "2m 13s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  if (minutes < 60) return `${minutes}m ${rest}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}
