// Ginkgo spec naming shared by the JUnit and JSON readers. Both go through `ginkgoSpecName`, so
// the same spec gets the same TestId whichever report it came from.

import { ginkgoNodeTypePrefix as nodeTypePrefix, nodeKindOfName, type TestNodeKind } from '../model.ts';

/** Whether a normalised Ginkgo name is a suite-level node ("[AfterSuite]"). */
export function isSuiteNodeName(name: string): boolean {
  return nodeKindOfName(name) === 'suite-setup';
}

export interface GinkgoJUnitName {
  nodeType: string;
  /** Container texts and leaf text, labels still attached. */
  text: string;
}

/** Splits a Ginkgo JUnit testcase name ("[It] A b c [label]") into node type and text, if it is one. */
export function splitGinkgoJUnitName(raw: string): GinkgoJUnitName | undefined {
  const m = nodeTypePrefix.exec(raw);
  if (!m) return undefined;
  return { nodeType: m[1]!, text: raw.slice(m[0].length) };
}

export function isSuiteNodeType(nodeType: string): boolean {
  return nodeType !== 'It';
}

export function nodeKind(nodeType: string): TestNodeKind {
  return isSuiteNodeType(nodeType) ? 'suite-setup' : 'spec';
}


/**
 * The TestCase name of a Ginkgo spec: texts joined by single spaces, every trailing bracket group
 * (labels, semver constraints) removed, and suite-level nodes kept recognisable as "[BeforeSuite]".
 * A leaf text that itself ends in "[...]" loses that part too, on both paths, so ids still agree.
 */
export function ginkgoSpecName(nodeType: string, text: string): string {
  const core = stripTrailingGroups(text.replace(/\s+/g, ' ').trim());
  if (!isSuiteNodeType(nodeType)) return core;
  return core ? `[${nodeType}] ${core}` : `[${nodeType}]`;
}

/** The bracket groups stripped from the end of a JUnit name, first group first ("a, b" of "[a, b]"). */
export function trailingGroups(text: string): string[] {
  const groups: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  for (;;) {
    const open = groupStart(rest);
    if (open < 0) break;
    groups.unshift(rest.slice(open + 2, rest.length - 1));
    rest = rest.slice(0, open);
  }
  return groups;
}

function stripTrailingGroups(text: string): string {
  let rest = text;
  for (;;) {
    const open = groupStart(rest);
    if (open < 0) return rest;
    rest = rest.slice(0, open);
  }
}

/** Index of the space before a balanced "[...]" that ends the text, or -1. */
function groupStart(text: string): number {
  if (!text.endsWith(']')) return -1;
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ']') depth++;
    else if (c === '[') {
      depth--;
      if (depth === 0) return i > 0 && text[i - 1] === ' ' ? i - 1 : -1;
    }
  }
  return -1;
}

/** "In [It] at: path/to/file_test.go:42 @ 01/02/26 15:04:05.000" in Ginkgo failure text. */
const failureAt = /In \[[^\]]+\] at: (\S+?):(\d+)(?: @|\s|$)/;

export function ginkgoFailureLocation(text: string): { file: string; line: number } | undefined {
  const m = failureAt.exec(text);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}

/** What the JUnit reader looks for in captured output; the XML guard passes only lines holding these. */
export const ginkgoTimelineMarks = ['Enter [It] ', 'Failure recorded during attempt'];

/** "> Enter [It] leaf text - path/to/file_test.go:42 @ ..." in Ginkgo's captured timeline. */
const enterIt = /> Enter \[It\] .*? - (\S+?):(\d+) @/;

export function ginkgoSpecLocation(timeline: string): { file: string; line: number } | undefined {
  const m = enterIt.exec(timeline);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}

/** Attempts Ginkgo retried under --flake-attempts, from "Failure recorded during attempt N" in the timeline. */
export function ginkgoFailedAttempts(timeline: string): number {
  let attempts = 0;
  for (const m of timeline.matchAll(/Failure recorded during attempt (\d+)/g)) attempts = Math.max(attempts, Number(m[1]));
  return attempts;
}
