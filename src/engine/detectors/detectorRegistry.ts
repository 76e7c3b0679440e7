// Picks the state detector for a profile's `stateDetection` rule. New rules (shell integration, agent CLIs)
// register here; the session itself never branches on a profile or program name.

import type { Profile } from '../profiles/profileSchema.js';
import { ProcessDetector } from './ProcessDetector.js';
import { QuietDetector } from './QuietDetector.js';
import { AgentDetector } from '../agent/AgentDetector.js';
import { ShellIntegrationDetector } from './ShellIntegrationDetector.js';
import type { DetectorFactory } from './StateDetector.js';

const factories = new Map<Profile['stateDetection'], DetectorFactory>([
  ['process', (host) => new ProcessDetector(host)],
  ['quiet', (host) => new QuietDetector(host)],
  ['shell-integration', (host) => new ShellIntegrationDetector(host, host.shellIntegration)],
  ['agent', (host) => new AgentDetector(host)],
]);

export function registerDetector(rule: Profile['stateDetection'], factory: DetectorFactory): void {
  factories.set(rule, factory);
}

/** The factory for a rule; rules without one yet fall back to the quiet-period rule (and say so in the reason). */
export function detectorFor(rule: Profile['stateDetection']): DetectorFactory {
  return factories.get(rule) ?? ((host) => new QuietDetector(host));
}
