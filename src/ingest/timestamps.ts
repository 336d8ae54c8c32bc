/**
 * Epoch milliseconds of a report timestamp, or undefined. JUnit timestamps usually carry no zone
 * ("2021-04-02T15:48:23"); they are read as UTC so the result does not depend on the machine.
 */
export function parseTimestamp(value: string | undefined): number | undefined {
  if (!value) return undefined;
  let v = value.trim().replace(/ UTC$/, 'Z');
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) v += 'Z';
  const ms = Date.parse(v);
  // Go's zero time (0001-01-01) marks "never started" in Ginkgo reports.
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return ms;
}

/** Seconds (JUnit `time`, which some tools write with thousands separators) to milliseconds. */
export function secondsToMs(value: string | undefined): number {
  if (!value) return 0;
  const n = Number(value.replace(/,/g, ''));
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000 * 1000) / 1000 : 0;
}
