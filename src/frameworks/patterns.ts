// Text that selects tests or survives a shell: focus and -run patterns, shell quoting.
//
// Ginkgo matches --focus against "<suite description> <spec text>", so a pattern anchored with
// `^` at the spec text would never match; it is anchored at a word boundary instead.

const GO_REGEX_META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes Go (RE2) regular expression metacharacters, like regexp.QuoteMeta. */
export function escapeRegex(text: string): string {
  return text.replace(GO_REGEX_META, '\\$&');
}

/** A Ginkgo --focus pattern that matches exactly one spec's full text (containers + It). */
export function ginkgoFocusPattern(specText: string): string {
  return `(^|\\s)${escapeRegex(specText)}$`;
}

/** A `go test -run` pattern selecting exactly these tests ("TestA", or "TestA/sub_case" subtests). */
export function goRunPattern(testNames: readonly string[]): string {
  const levels = testNames.map((n) => n.split('/'));
  const top = unique(levels.map((l) => l[0] ?? ''));
  const topPattern = `^(${top.map(escapeRegex).join('|')})$`;
  // Subtests are selected only when every test is a direct subtest; otherwise whole top-level tests run.
  if (levels.length > 0 && levels.every((l) => l.length === 2)) {
    const sub = unique(levels.map((l) => l[1] ?? ''));
    return `${topPattern}/^(${sub.map(escapeRegex).join('|')})$`;
  }
  return topPattern;
}

/** Quotes one argument for a POSIX shell, leaving plain words readable. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return shellWord(arg);
}

/** Quotes one argument for a POSIX shell always (generated scripts: every path quoted alike). */
export function shellWord(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one line a POSIX shell splits back into the same argv. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
