// The `process` rule: a program that runs is busy until it exits. Nothing else to learn.

import type { DetectorHost, StateDetector } from './StateDetector.js';

export class ProcessDetector implements StateDetector {
  constructor(private readonly host: DetectorHost) {}

  onStart(): void {
    this.host.setState('busy', 'running', 'process');
  }

  onOutput(): void {}

  onInput(): void {}

  dispose(): void {}
}
