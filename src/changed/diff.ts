// A unified diff (`git diff --unified=0`) read as the lines each file has changed on its new side.
// Pure: text in, ranges out.

/** A file's changed lines: on the new side, the range of lines a hunk put there (a pure deletion marks the line it happened at). */
export interface ChangedFile {
  /** Path relative to the repository root, as git prints it (b/ side). */
  path: string;
  /** The file did not exist at the base. */
  added: boolean;
  /** Inclusive, 1-based line ranges on the new side. */
  ranges: { start: number; end: number }[];
}

const hunkHeader = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Parses `git diff --unified=0 --no-color` output. Deleted files are left out: no spec lives in them any more. */
export function parseUnifiedDiff(text: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  let current: ChangedFile | undefined;
  let fromNothing = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      current = undefined;
      fromNothing = false;
      continue;
    }
    if (line.startsWith('--- ')) {
      fromNothing = line === '--- /dev/null';
      continue;
    }
    if (line.startsWith('+++ ')) {
      const path = line.slice(4);
      if (path === '/dev/null') continue;
      current = { path: unquote(path).replace(/^b\//, ''), added: fromNothing, ranges: [] };
      files.push(current);
      continue;
    }
    const hunk = hunkHeader.exec(line);
    if (hunk && current) {
      const start = Number(hunk[2]);
      const count = hunk[3] === undefined ? 1 : Number(hunk[3]);
      // A deletion (count 0) happened after line `start`: the code around it changed.
      current.ranges.push(count === 0 ? { start: Math.max(1, start), end: Math.max(1, start) } : { start, end: start + count - 1 });
    }
  }
  return files;
}

/** git quotes paths with unusual characters: "b/a\tb.go". */
function unquote(path: string): string {
  if (!path.startsWith('"')) return path;
  try {
    return JSON.parse(path) as string;
  } catch {
    return path.slice(1, -1);
  }
}
