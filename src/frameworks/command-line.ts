// The user's test command taken apart once: environment words in front (`A=1 go test`, also
// `env A=1 go test`), the program, its arguments. Every adapter reads these parts; none splits
// the argv again.

/** A test command as a shell would run it. */
export interface CommandLine {
  /** `VAR=value` words before the program, in order (shown back to the user as written). */
  envWords: string[];
  /** The same words as variables, for the process environment. */
  env: Record<string, string>;
  /** The program and its arguments. */
  argv: string[];
}

const envWord = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function parseCommandLine(command: readonly string[]): CommandLine {
  // `env A=1 go test` runs like `A=1 go test`.
  const words = command[0] === 'env' && command.length > 1 && !command[1]!.startsWith('-') ? command.slice(1) : [...command];
  let start = 0;
  while (start < words.length && envWord.test(words[start]!)) start += 1;
  const envWords = words.slice(0, start);
  const env: Record<string, string> = {};
  for (const word of envWords) {
    const eq = word.indexOf('=');
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { envWords, env, argv: words.slice(start) };
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A flag to remove: its names without dashes, and whether it takes a separate value (`--seed 5`). */
export interface FlagRule {
  names: string[];
  value: boolean;
}

/** Whether a word ends the flags of this command: what follows belongs to the test binary. */
function isPassthrough(word: string): boolean {
  return word === '--' || word === '-args' || word === '--args';
}

/**
 * Drops the flags the rules name, in `-x`, `--x`, `-x=v` and (valued) `-x v` forms, up to the
 * first passthrough separator (`--`, `-args`). Also says how many words went before `insertAt`,
 * so a caller can insert its own flags where the removed ones stood.
 */
export function removeFlags(argv: readonly string[], rules: readonly FlagRule[], insertAt = argv.length): { kept: string[]; removedBefore: number } {
  const kept: string[] = [];
  let removedBefore = 0;
  let passthrough = false;
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (isPassthrough(word)) passthrough = true;
    const match = passthrough ? null : /^--?([^=]+)(=.*)?$/.exec(word);
    const rule = match ? rules.find((r) => r.names.includes(match[1]!)) : undefined;
    if (!rule) {
      kept.push(word);
      continue;
    }
    const drop = rule.value && match![2] === undefined && i + 1 < argv.length ? 2 : 1;
    for (let d = 0; d < drop; d += 1) if (i + d < insertAt) removedBefore += 1;
    i += drop - 1;
  }
  return { kept, removedBefore };
}

/** Whether any flag before the passthrough separator matches. */
export function hasFlag(argv: readonly string[], pattern: RegExp): boolean {
  for (const word of argv) {
    if (isPassthrough(word)) return false;
    if (pattern.test(word)) return true;
  }
  return false;
}
