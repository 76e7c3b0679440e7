// engine.presets.templates: named presets of a create request, kept through the PresetStore port.

import type { TemplateBody } from '../../protocol/api.js';
import type { PresetStore } from '../ports.js';
import { deleteTemplate, getTemplate, listTemplates, putTemplate, type TemplateRecord } from '../templates/templates.js';

/** Session templates: named presets of a create request (secret env values redacted in what they answer). */
export class EngineTemplates {
  constructor(
    private readonly store: PresetStore,
    /** Refuses a template that could never start a session (templateCheck.ts): checked when saved, not at first use. */
    private readonly check: (name: string, body: TemplateBody) => void,
  ) {}

  list(): TemplateRecord[] {
    return listTemplates(this.store);
  }

  get(name: string): TemplateRecord {
    return getTemplate(this.store, name);
  }

  put(name: string, body: TemplateBody): TemplateRecord {
    this.check(name, body);
    return putTemplate(this.store, name, body);
  }

  delete(name: string): void {
    deleteTemplate(this.store, name);
  }
}
