// Structural check of a report.json written by someone else (another kubeflake version, a
// matrix shard, a hand edit) before any renderer trusts it: `kubeflake report report.json`
// (pipeline.ts readReportFile) renders one only after this. Unknown fields are allowed, since
// the v1 contract grows by extension; missing or mistyped known fields are not.

import type { Report } from '../model.ts';
import { ALL_VERDICTS } from '../verdict-table.ts';

export type ReportValidation = { ok: true; report: Report } | { ok: false; errors: string[] };

export const REPORT_SCHEMA = 'kubeflake/report@1';

/** Past this many problems the file is clearly not a report; listing more would not help. */
const MAX_ERRORS = 50;

interface Context {
  errors: string[];
}

type Check = (value: unknown, path: string, ctx: Context) => void;

function fail(ctx: Context, path: string, expected: string, value: unknown): void {
  if (ctx.errors.length < MAX_ERRORS + 1) ctx.errors.push(`${path}: expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const str: Check = (v, p, c) => {
  if (typeof v !== 'string') fail(c, p, 'a string', v);
};
const bool: Check = (v, p, c) => {
  if (typeof v !== 'boolean') fail(c, p, 'true or false', v);
};
const count: Check = (v, p, c) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(c, p, 'a whole number ≥ 0', v);
};
const int: Check = (v, p, c) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(c, p, 'a whole number', v);
};
const nonNegative: Check = (v, p, c) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(c, p, 'a number ≥ 0', v);
};
const num: Check = (v, p, c) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(c, p, 'a number', v);
};

function nullable(check: Check): Check {
  return (v, p, c) => {
    if (v !== null) check(v, p, c);
  };
}

function oneOf(values: readonly string[]): Check {
  return (v, p, c) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(c, p, `one of ${values.join(', ')}`, v);
  };
}

function list(check: Check): Check {
  return (v, p, c) => {
    if (!Array.isArray(v)) return fail(c, p, 'an array', v);
    v.forEach((item, i) => check(item, `${p}[${i}]`, c));
  };
}

function record(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, p, c) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(c, p, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const [key, check] of Object.entries(required)) {
      if (!(key in o)) {
        if (c.errors.length < MAX_ERRORS + 1) c.errors.push(`${p}.${key}: missing`);
      } else check(o[key], `${p}.${key}`, c);
    }
    for (const [key, check] of Object.entries(optional)) {
      if (o[key] !== undefined) check(o[key], `${p}.${key}`, c);
    }
  };
}

const FAILURE_KINDS = [
  'AlreadyExists', 'BeingDeleted', 'Conflict', 'NotFound', 'Forbidden', 'Unauthorized', 'Invalid', 'WebhookDenied',
  'NamespaceTerminating', 'EventuallyTimeout', 'ConsistentlyFailed', 'ContextDeadline', 'Timeout', 'Panic',
  'ConnectionRefused', 'BuildFailure', 'AssertionFailed', 'Unknown',
] as const;
const PURPOSES = ['polluter', 'alone', 'cleaner', 'state-setter', 'bisect', 'hazard'] as const;
const ORDER_SOURCES = ['ginkgo-json', 'junit-times', 'junit-document', 'unknown'] as const;

const objectRef = record({ apiVersion: str, kind: str, name: str }, { namespace: str, uid: str });
const location = record({ file: str, line: int });
const sourceLine = record({ file: str, line: count }, { what: str });
const sharedVariable = record({ name: str, scope: oneOf(['package', 'container']), declared: sourceLine, assigned: sourceLine, read: sourceLine });
const cleanupAct = record({ object: objectRef, run: str }, { reason: str });

const run = record(
  { id: str, seed: int, exitCode: nullable(int), durationMs: nonNegative, timedOut: bool, order: list(str), failed: list(str), probe: bool },
  {
    orderSource: oneOf(ORDER_SOURCES), purpose: oneOf(PURPOSES), subject: str, warnings: list(str), skipped: list(str),
    // Any kind string: a later version may add kinds, which this one's renderers pass over.
    notices: list(record({ kind: str, message: str })),
  },
);

const recordedObject = record({ group: str, resource: str, name: str }, { namespace: str, plane: str });
const recordLink = record(
  {
    run: str, victim: str, polluter: str, object: recordedObject, state: oneOf(['terminating', 'present', 'deleted', 'modified']),
    failure: oneOf(FAILURE_KINDS), refusedAt: nonNegative, refusal: record({ verb: str, code: int }, { reason: str, message: str }), refusals: count,
    margins: record({}, { deletedToRefusedMs: num, refusedToGoneMs: num }),
  },
  { createdBy: str, createdAt: nonNegative, deletedAt: nonNegative, goneAt: nonNegative, goneBy: oneOf(['finalizer-removed', 'watch', 'not-found', 'next-create']) },
);
const hazard = record({
  first: str, second: str, object: recordedObject, kind: oneOf(['terminating', 'state-dependence']), access: oneOf(['create', 'read', 'expects-absent']),
  meetings: list(record({ run: str, probe: bool, fired: bool }, { windowMs: num, marginMs: num })),
  probes: record({ runs: list(str), failed: list(str), stress: bool }),
  outcome: oneOf(['fired', 'held-off', 'unmet']),
}, { windowMs: num });

const test = record(
  {
    id: str, name: str, suite: str, file: str, line: count, verdict: oneOf(ALL_VERDICTS), passed: count, failed: count,
    failureKinds: list(oneOf(FAILURE_KINDS)),
    polluters: list(record({ test: str, confirmed: bool, via: list(count) }, { decidedBy: oneOf(['record', 'probes']), link: recordLink })),
    cleaners: list(str), stateSetters: list(str), reproduce: str,
  },
  {
    hint: str, why: str,
    failures: list(record({ run: str, kind: oneOf(FAILURE_KINDS), message: str, signature: str }, { location })),
    // What the renderers read of a fix: the sentence's parts and the diff.
    fix: record(
      { kind: str, polluter: str, offered: bool },
      {
        file: str, patch: str, patchFile: str, noFix: str, stress: str,
        lines: record({ start: count, end: count }),
        before: record({ failed: count, runs: count }, { source: str }),
        after: record({ failed: count, runs: count }),
        sharedVariable,
      },
    ),
  },
);

const leak = record(
  { apiVersion: str, kind: str, namespace: str, name: str, uid: str, terminating: bool, finalizers: list(str), createdBy: nullable(str), runs: list(str) },
  { attribution: oneOf(['exact', 'approximate', 'owner', 'unknown']), resource: str, deletedBy: nullable(str), owner: objectRef },
);

const report = record(
  {
    schema: str, command: str, framework: oneOf(['ginkgo', 'go', 'generic']), cluster: oneOf(['kind', 'local', 'existing', 'none']),
    runs: list(run), tests: list(test), leaks: list(leak),
    cleanup: record(
      { dryRun: bool, deleted: list(cleanupAct), finalizersRemoved: list(cleanupAct), left: list(record({ object: objectRef, run: str, why: str }, { reason: str })) },
      { errors: list(str) },
    ),
    verdict: oneOf(['clean', 'findings', 'error']),
  },
  {
    version: str, generatedAt: str, errors: list(str), clusterReleasedAfter: str,
    failureClusters: list(record({ signature: str, kind: oneOf(FAILURE_KINDS), example: str, tests: list(str), count: count })),
    hazards: list(hazard),
  },
);

/** Checks `value` (parsed JSON) against the v1 report contract; errors name the field path. */
export function validateReport(value: unknown): ReportValidation {
  const ctx: Context = { errors: [] };
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'string' && schema !== REPORT_SCHEMA && schema.startsWith('kubeflake/report@')) {
    return { ok: false, errors: [`report.schema: this kubeflake reads ${REPORT_SCHEMA}, the file is ${schema}; render it with the kubeflake version that wrote it`] };
  }
  report(value, 'report', ctx);
  if (!ctx.errors.length && schema !== REPORT_SCHEMA) ctx.errors.push(`report.schema: expected "${REPORT_SCHEMA}", got ${describe(schema)}`);
  if (!ctx.errors.length) crossCheck(value as Report, ctx);
  if (ctx.errors.length) {
    const errors = ctx.errors.slice(0, MAX_ERRORS);
    if (ctx.errors.length > MAX_ERRORS) errors.push(`…and more: stopped after ${MAX_ERRORS} problems`);
    return { ok: false, errors };
  }
  return { ok: true, report: value as Report };
}

/** References inside the report that the shape alone can't check. */
function crossCheck(r: Report, ctx: Context): void {
  const seen = new Set<string>();
  r.tests.forEach((t, i) => {
    if (seen.has(t.id)) ctx.errors.push(`report.tests[${i}].id: duplicate test id ${JSON.stringify(t.id)}`);
    seen.add(t.id);
    t.polluters.forEach((p, j) =>
      p.via.forEach((leakIndex, k) => {
        if (leakIndex >= r.leaks.length) {
          ctx.errors.push(`report.tests[${i}].polluters[${j}].via[${k}]: leak index ${leakIndex} is out of range (the report has ${r.leaks.length} leaks)`);
        }
      }),
    );
  });
}
