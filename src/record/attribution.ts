// Pure: who made an object and who deleted it, by the record. An object's create is found
// (creates.ts), placed in the spec running when the server received it (placement.ts), and the
// actor says whether the test process sent it (a create by the cluster's own controllers is no
// spec's: the caller falls back to the owner and namespace rules).

import type { RunResult, TestId } from '../model.ts';
import type { RecordEntry } from './entry.ts';
import { RecordIndex, type RecordCreate, type RecordedObject } from './creates.ts';
import { requestPlacer, type Placement, type RequestPlacer } from './placement.ts';

export interface RecordCreator {
  create: RecordCreate;
  placement: Placement;
  /** The specs that may have sent it, likeliest first: one unless specs ran in parallel or generateName creates could not be told apart. */
  candidates: TestId[];
  /** One spec, by its window (or the suite setup before the specs): no guess. */
  certain: boolean;
  /** The test process sent the create (the specs or their in-process controllers). */
  byTest: boolean;
}

export interface RecordDeleter {
  entry: RecordEntry;
  placement: Placement;
}

/** The record of one run, ready to name creators and deleters. */
export class RecordAttribution {
  readonly index: RecordIndex;
  readonly placer: RequestPlacer | undefined;

  constructor(entries: readonly RecordEntry[], run: RunResult) {
    this.index = new RecordIndex(entries);
    this.placer = requestPlacer(run);
  }

  /** Who created an object, by its create in the record; undefined when the record does not hold it or the run has no spec. */
  creatorOf(o: RecordedObject): RecordCreator | undefined {
    const create = this.index.createOf(o);
    if (!create || !this.placer) return undefined;
    const placement = this.placer.entry(create.entry);
    const others = (create.possible ?? []).slice(1).map((e) => (this.placer as RequestPlacer).entry(e));
    const candidates = [...new Set([placement.test, ...(placement.candidates ?? []), ...others.flatMap((p) => [p.test, ...(p.candidates ?? [])])])];
    return {
      create,
      placement,
      candidates,
      certain: candidates.length === 1 && placement.basis !== 'gap',
      byTest: create.entry.actor === 'test',
    };
  }

  /** Who deleted an object the run destroyed: the first successful delete of it by anyone but kubeflake. */
  deleterOf(o: Pick<RecordedObject, 'apiVersion' | 'resource' | 'namespace' | 'name'>): RecordDeleter | undefined {
    const entry = this.index.deletesOf(o).find((e) => e.actor !== 'kubeflake');
    if (!entry || !this.placer) return undefined;
    return { entry, placement: this.placer.entry(entry) };
  }
}
