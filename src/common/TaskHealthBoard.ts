// Where every background task of the daemon reports its health, whoever owns it (the engine's reaper and sampler,
// a face's heartbeat or sweep), so `/healthz` and the metrics read one list. It only reads; it runs nothing.

import { toDisposable, type Disposable } from './lifecycle.js';
import type { TaskHealth } from './PeriodicTask.js';

/** One task (a PeriodicTask) or a function listing several (the engine's). */
export type TaskHealthSource = { health(): TaskHealth } | (() => readonly TaskHealth[]);

export class TaskHealthBoard {
  private readonly sources = new Set<TaskHealthSource>();

  /** Lists the source's tasks until the returned disposable is disposed (with the task's owner). */
  add(source: TaskHealthSource): Disposable {
    this.sources.add(source);
    return toDisposable(() => this.sources.delete(source));
  }

  all(): TaskHealth[] {
    const tasks: TaskHealth[] = [];
    for (const source of this.sources) {
      if (typeof source === 'function') tasks.push(...source());
      else tasks.push(source.health());
    }
    return tasks;
  }
}
