// Locating the line of a fix (pure): from a confirmed polluter's spec location and the object it
// stood in the victim's way with, the Delete call in the polluter's own code (its spec body, the
// setup and teardown nodes of its containers, DeferCleanup inside them, and the package helpers
// they call) that deletes that object and never waits for it to be gone.

import type { GoSourceFile, GoSourceNode } from '../changed/specs.ts';

/** One `<client>.Delete(<ctx>, <obj>)` call as `tools/gosource deletes` prints it. */
export interface DeleteCall {
  file: string;
  line: number;
  end: number;
  stmt: LineRange;
  /** The last statement of its block still using the object: the wait goes after it. */
  waitAfter: number;
  client: string;
  ctx: string;
  object: string;
  /** The object is a plain reference the wait can Get again (x, &x, s.x). */
  objectFixable: boolean;
  /** String literals in the object's definition: its name, or the helper arguments naming it. */
  names: string[];
  types: string[];
  /** A later statement of its block already waits for NotFound. */
  waited: boolean;
  func: string;
  timeout: string;
  interval: string;
}

export interface LineRange {
  start: number;
  end: number;
}

/** A stretch of source the polluter runs, and what it is (for the report's words). */
export interface PolluterCode extends LineRange {
  file: string;
  what: string;
}

/** Where a spec's code is, given its leaf's file and line (Ginkgo JSON's LeafNodeLocation). */
export interface SpecLocation {
  file: string;
  line: number;
}

const LEAF_KINDS = new Set(['It', 'Specify', 'Entry', 'FIt', 'FSpecify', 'FEntry', 'PIt', 'XIt']);
// The nodes that run around every spec of their container: their deletes are the spec's too.
const AROUND_KINDS = new Set(['BeforeEach', 'JustBeforeEach', 'AfterEach', 'JustAfterEach', 'BeforeAll', 'AfterAll']);

/**
 * The code a spec runs: its leaf node (DeferCleanup inside it included), the setup and teardown
 * nodes of each container around it, and the package functions those call, transitively.
 * Undefined when no leaf node of the package starts at the location.
 */
export function polluterCode(pkg: readonly GoSourceFile[], spec: SpecLocation): PolluterCode[] | undefined {
  const source = pkg.find((file) => file.file === spec.file);
  const nodes = source?.nodes ?? [];
  const leaf = nodes.find((node) => LEAF_KINDS.has(node.kind) && node.start === spec.line)
    ?? innermost(nodes.filter((node) => LEAF_KINDS.has(node.kind) && node.start <= spec.line && spec.line <= node.end));
  if (!source || !leaf) return undefined;
  const code: PolluterCode[] = [{ file: source.file, start: leaf.start, end: leaf.end, what: `its ${leaf.kind}` }];
  const around = nodes.filter((node) => AROUND_KINDS.has(node.kind) && node.containers.length > 0 && leaf.containers.includes(node.containers[node.containers.length - 1]!));
  for (const node of around) code.push({ file: source.file, start: node.start, end: node.end, what: `the ${node.kind} of ${containerName(nodes, node)}` });

  // Helpers by name across the package's files, followed through the helpers they call.
  const funcs = new Map<string, PolluterCode & { calls: string[] }>();
  for (const file of pkg) for (const fn of file.funcs ?? []) if (!fn.receiver && !funcs.has(fn.name)) funcs.set(fn.name, { file: file.file, start: fn.start, end: fn.end, what: `the helper ${fn.name}`, calls: fn.calls });
  const pending = [leaf, ...around].flatMap((node) => node.calls);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.shift()!;
    const fn = funcs.get(name);
    if (seen.has(name) || !fn) continue;
    seen.add(name);
    code.push({ file: fn.file, start: fn.start, end: fn.end, what: fn.what });
    pending.push(...fn.calls);
  }
  return code;
}

function innermost(nodes: GoSourceNode[]): GoSourceNode | undefined {
  return [...nodes].sort((a, b) => (a.end - a.start) - (b.end - b.start))[0];
}

function containerName(nodes: readonly GoSourceNode[], node: GoSourceNode): string {
  const parent = nodes[node.containers[node.containers.length - 1]!];
  return parent?.text ? `"${parent.text}"` : 'its container';
}

export type Located =
  | { found: true; call: DeleteCall; where: PolluterCode }
  | { found: false; reason: string };

/**
 * The Delete that left `object` in the way: a call in the polluter's code that does not wait for
 * the object to be gone, naming it when the source names it (a literal in its definition); when no
 * call names it, the only such call there. A call that already waits is no line to fix.
 */
export function locateDelete(code: readonly PolluterCode[], deletes: readonly DeleteCall[], object: { name: string }): Located {
  const inCode = deletes
    .map((call) => ({ call, where: code.find((part) => part.file === call.file && part.start <= call.line && call.line <= part.end) }))
    .filter((entry): entry is { call: DeleteCall; where: PolluterCode } => entry.where !== undefined);
  if (inCode.length === 0) return { found: false, reason: 'the polluter\'s code (its spec, its containers\' setup and teardown, the helpers they call) holds no Delete call' };
  const naming = inCode.filter((entry) => entry.call.names.includes(object.name));
  const waited = naming.find((entry) => entry.call.waited);
  const unwaited = (naming.length > 0 ? naming : inCode).filter((entry) => !entry.call.waited);
  if (unwaited.length === 0) {
    const call = (waited ?? inCode[0]!).call;
    return { found: false, reason: `the polluter's Delete${naming.length > 0 ? ` of "${object.name}"` : 's'} (line ${call.line}) already wait${naming.length > 0 ? 's' : ''} for the object to be gone` };
  }
  if (naming.length === 0 && unwaited.length > 1) {
    return { found: false, reason: `the polluter deletes without waiting in ${unwaited.length} places (lines ${unwaited.map((entry) => entry.call.line).join(', ')}) and none names "${object.name}" in its source` };
  }
  return { found: true, ...unwaited[0]! };
}
