// What drives a session's state, and so what else the session can do: a plain program (the process or the
// quiet-period rule), a shell with integration marks (exec), or an agent CLI (hooks, prompt, answer). Chosen once
// from the profile's `stateDetection` rule; callers switch on `kind` to reach a capability, never on a profile name.

import { AgentDetector } from './agent/AgentDetector.js';
import { ProcessDetector } from './detectors/ProcessDetector.js';
import { QuietDetector } from './detectors/QuietDetector.js';
import type { DetectorHost, StateDetector } from './detectors/StateDetector.js';
import type { Profile } from './profiles/profileSchema.js';
import type { ShellIntegration } from './shell/shellIntegration.js';
import { ShellIntegrationDetector } from './shell/ShellIntegrationDetector.js';

export type SessionDriver =
  /** States from the process alone (`process`) or from output and quiet periods (`quiet`). */
  | { readonly kind: 'plain'; readonly detector: StateDetector }
  /** States from the shell's own marks; exec finds command boundaries through them. */
  | { readonly kind: 'shell'; readonly detector: ShellIntegrationDetector }
  /** States from an agent CLI's hooks and screen; prompt and answer go through it. */
  | { readonly kind: 'agent'; readonly detector: AgentDetector };

/** The driver for a profile's rule. `shellIntegration` is what was injected at spawn, or null when nothing was. */
export function createDriver(
  rule: Profile['stateDetection'],
  host: DetectorHost,
  shellIntegration: ShellIntegration | null,
): SessionDriver {
  switch (rule) {
    case 'process':
      return { kind: 'plain', detector: new ProcessDetector(host) };
    case 'quiet':
      return { kind: 'plain', detector: new QuietDetector(host) };
    case 'shell-integration':
      return { kind: 'shell', detector: new ShellIntegrationDetector(host, shellIntegration) };
    case 'agent':
      return { kind: 'agent', detector: new AgentDetector(host) };
  }
}
