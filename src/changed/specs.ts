// Which specs a change touches: each hunk of the diff mapped, through the structure Go's own
// parser gave (tools/gosource), to the specs whose source it falls in. Pure: the parsed files,
// the changed line ranges and the tests the hunt has seen go in; the changed specs come out.

import { isSuiteNode, type TestCase, type TestId } from '../model.ts';
import type { ChangedFile } from './diff.ts';

/** One file as `gosource` prints it (tools/gosource/main.go documents the shape). */
export interface GoSourceFile {
  file: string;
  package?: string;
  error?: string;
  funcs?: { name: string; receiver: string; start: number; end: number; calls: string[] }[];
  nodes?: GoSourceNode[];
}

export interface GoSourceNode {
  kind: string;
  text: string;
  start: number;
  end: number;
  /** Indexes into the file's nodes, outermost first. */
  containers: number[];
  calls: string[];
  func: string;
  /** The statements of its body function that are not Ginkgo nodes (a container's variables and setup code). */
  own?: { start: number; end: number }[];
}

/** A spec (Ginkgo leaf node or Go test function) the change adds or changes. */
export interface ChangedSpec {
  test: TestId;
  /** new: it did not exist at the base; changed: it did, and the change reaches it. */
  change: 'new' | 'changed';
  /** Where the change reaches it: its own lines, a setup node of its containers, a helper it calls. */
  why: string;
}

/** A spec Ginkgo runs: It, Specify, Entry, Measure and their focused and pending forms. */
export function isLeafKind(kind: string): boolean {
  return /^[FPX]?(It|Specify|Entry|Measure)$/.test(kind);
}

const CONTAINER = /^[FPX]?(Describe|Context|When|DescribeTable|DescribeTableSubtree)$/;
// Nodes that run around every spec of their container.
const SETUP = /^(BeforeEach|JustBeforeEach|AfterEach|JustAfterEach|BeforeAll|AfterAll|DeferCleanup)$/;

interface Range {
  start: number;
  end: number;
}

const overlaps = (a: Range, b: Range): boolean => a.start <= b.end && b.start <= a.end;

/**
 * The key a spec is known by in its file, to tell a new spec from a changed one: a Ginkgo leaf by
 * its container texts and its own text, a Go test by its function name.
 */
export function specKeys(file: GoSourceFile): Set<string> {
  const keys = new Set<string>();
  const nodes = file.nodes ?? [];
  for (const node of nodes) if (isLeafKind(node.kind)) keys.add(leafKey(nodes, node));
  for (const fn of file.funcs ?? []) if (!fn.receiver && /^Test/.test(fn.name)) keys.add(`func ${fn.name}`);
  return keys;
}

function leafKey(nodes: readonly GoSourceNode[], node: GoSourceNode): string {
  return `spec ${[...node.containers.map((i) => nodes[i]?.text ?? ''), node.text].join(' ').replace(/\s+/g, ' ').trim()}`;
}

export interface ChangedSpecsInput {
  /** The head's files of every package a changed file is in (absolute paths), as gosource printed them. */
  sources: readonly GoSourceFile[];
  /** The diff's files, paths absolute. */
  changed: readonly ChangedFile[];
  /** The spec keys each changed file had at the base (absent: the file is new). */
  baseKeys: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every test the hunt has seen. */
  tests: readonly TestCase[];
  /** The import path of each package folder (absolute), for Go tests: their reports name the package. */
  importPaths: ReadonlyMap<string, string>;
}

/** The specs a change adds or changes, each once, in the order the tests were seen. */
export function changedSpecs(input: ChangedSpecsInput): ChangedSpec[] {
  const rangesOf = new Map(input.changed.map((file) => [file.path, file.ranges] as const));
  const touched = (file: string, range: Range): boolean => (rangesOf.get(file) ?? []).some((r) => overlaps(r, range));
  const changedFuncs = changedFunctions(input.sources, touched);
  const found = new Map<TestId, ChangedSpec>();
  const add = (test: TestCase, file: string, key: string, why: string): void => {
    if (found.has(test.id) || isSuiteNode(test)) return;
    const base = input.baseKeys.get(file);
    found.set(test.id, { test: test.id, change: base && base.has(key) ? 'changed' : 'new', why });
  };
  for (const source of input.sources) {
    const nodes = source.nodes ?? [];
    const pkg = dirOf(source.file);
    for (const node of nodes) {
      if (!isLeafKind(node.kind)) continue;
      const why = leafChange(source.file, nodes, node, touched, (name) => changedFuncs.has(`${pkg}\u0000${name}`));
      if (!why) continue;
      const key = leafKey(nodes, node);
      const name = key.slice('spec '.length);
      const test = input.tests.find((t) => t.file === source.file && t.line === node.start) ?? input.tests.find((t) => !t.file && t.name === name);
      if (test) add(test, source.file, key, why);
    }
    const importPath = input.importPaths.get(pkg);
    for (const fn of source.funcs ?? []) {
      if (fn.receiver || !/^Test/.test(fn.name) || !source.file.endsWith('_test.go')) continue;
      const own = touched(source.file, fn);
      const helper = fn.calls.find((name) => changedFuncs.has(`${pkg}\u0000${name}`));
      if (!own && !helper) continue;
      const why = own ? `its function ${fn.name} (lines ${fn.start}-${fn.end}) changed` : `it calls ${helper}, which changed`;
      for (const test of input.tests.filter((t) => (t.name === fn.name || t.name.startsWith(`${fn.name}/`)) && (importPath === undefined || t.suite === importPath))) {
        add(test, source.file, `func ${fn.name}`, why);
      }
    }
  }
  const order = new Map(input.tests.map((t, i) => [t.id, i] as const));
  return [...found.values()].sort((a, b) => (order.get(a.test) ?? 0) - (order.get(b.test) ?? 0));
}

/** Why a leaf is reached by the change, or undefined. */
function leafChange(file: string, nodes: readonly GoSourceNode[], leaf: GoSourceNode, touched: (file: string, range: Range) => boolean, helperChanged: (name: string) => boolean): string | undefined {
  if (touched(file, leaf)) return `its ${leaf.kind} (lines ${leaf.start}-${leaf.end}) changed`;
  const helper = leaf.calls.find(helperChanged);
  if (helper) return `it calls ${helper}, which changed`;
  for (const index of leaf.containers) {
    const container = nodes[index];
    if (!container || !CONTAINER.test(container.kind)) continue;
    const children = nodes.filter((n) => n.containers.at(-1) === index);
    for (const setup of children.filter((n) => SETUP.test(n.kind))) {
      if (touched(file, setup)) return `the ${setup.kind} of ${container.kind} "${container.text}" (lines ${setup.start}-${setup.end}) changed`;
      const called = setup.calls.find(helperChanged);
      if (called) return `the ${setup.kind} of ${container.kind} "${container.text}" calls ${called}, which changed`;
    }
    // A statement of the container that is none of its nodes (a variable, the table's body) runs for all of them;
    // a blank line or a comment between specs is no statement, and reaches none.
    if ((container.own ?? []).some((range) => touched(file, range))) return `${container.kind} "${container.text}" changed outside its specs`;
  }
  return undefined;
}

/** Top-level functions (by package folder and name) the change reaches: their own lines, or a function they call that it reaches. */
function changedFunctions(sources: readonly GoSourceFile[], touched: (file: string, range: Range) => boolean): Set<string> {
  const funcs = sources.flatMap((source) => (source.funcs ?? []).filter((fn) => !fn.receiver).map((fn) => ({ key: `${dirOf(source.file)}\u0000${fn.name}`, pkg: dirOf(source.file), fn, file: source.file })));
  const changed = new Set(funcs.filter((f) => touched(f.file, f.fn)).map((f) => f.key));
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of funcs) {
      if (changed.has(f.key) || !f.fn.calls.some((name) => changed.has(`${f.pkg}\u0000${name}`))) continue;
      changed.add(f.key);
      grew = true;
    }
  }
  return changed;
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/')) || '/';
}
