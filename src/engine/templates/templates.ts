// Session templates: named, stored presets of a create request (profile, command, env, size, limits,
// auto-answers). Validates what is stored and merges a template under a create request; the request wins.
// It never starts a session itself and never stores anything it has not validated. What it returns to callers is
// the template with the values of its secret env names redacted; only applyTemplate sees them.

import { templateBodySchema, type CreateSessionRequest, type TemplateBody } from '../../protocol/api.js';
import { CorralError } from '../../protocol/errors.js';
import { REDACTED } from '../../protocol/sessionTypes.js';
import type { TemplateRecord } from '../../protocol/apiReplies.js';
import type { NamedBody, PresetStore } from '../ports.js';

// The stored template as replies show it is a wire type (protocol/apiReplies.ts); named here for the engine's callers.
export type { TemplateRecord };

function toRecord(stored: NamedBody): TemplateRecord {
  // Stored bodies were validated on the way in; parse again so an older, looser body cannot slip through.
  return { ...templateBodySchema.parse(stored.body), name: stored.name, createdAt: stored.createdAt, updatedAt: stored.updatedAt };
}

/** The template as API replies, the CLI and the dashboard show it: secret env values redacted. */
function toView(record: TemplateRecord): TemplateRecord {
  const secret = record.secretEnv;
  if (record.env === undefined || secret === undefined || secret.length === 0) return record;
  const env = Object.fromEntries(Object.entries(record.env).map(([name, value]) => [name, secret.includes(name) ? REDACTED : value]));
  return { ...record, env };
}

/**
 * Stores a template. A secret env value sent back as REDACTED (a client saving what it was shown) keeps the value
 * already stored under that name, so editing a template never overwrites its secrets with the placeholder.
 */
export function putTemplate(store: PresetStore, name: string, body: TemplateBody): TemplateRecord {
  const parsed = templateBodySchema.parse(body);
  const previous = store.getTemplate(name);
  if (parsed.env !== undefined && parsed.secretEnv !== undefined && previous !== undefined) {
    const stored = toRecord(previous).env ?? {};
    for (const secretName of parsed.secretEnv) {
      const kept = stored[secretName];
      if (parsed.env[secretName] === REDACTED && kept !== undefined) parsed.env[secretName] = kept;
    }
  }
  return toView(toRecord(store.putTemplate(name, parsed)));
}

export function getTemplate(store: PresetStore, name: string): TemplateRecord {
  return toView(loadTemplate(store, name));
}

/** The stored template with its secrets: for building a session only. */
function loadTemplate(store: PresetStore, name: string): TemplateRecord {
  const stored = store.getTemplate(name);
  if (stored === undefined) {
    const names = store.listTemplates().map((t) => t.name).slice(0, 20);
    throw new CorralError(
      'TEMPLATE_NOT_FOUND',
      `No template "${name}". ${names.length === 0 ? 'No templates exist (POST /api/v1/templates).' : `Templates: ${names.join(', ')}.`}`,
      { details: { name } },
    );
  }
  return toRecord(stored);
}

export function listTemplates(store: PresetStore): TemplateRecord[] {
  return store.listTemplates().map((stored) => toView(toRecord(stored)));
}

export function deleteTemplate(store: PresetStore, name: string): void {
  loadTemplate(store, name);
  store.deleteTemplate(name);
}

/** The create request with its template's fields underneath: request fields win, env and labels merge. */
export function applyTemplate(store: PresetStore, request: CreateSessionRequest): CreateSessionRequest {
  if (request.template === undefined) return request;
  const { description: _description, ...preset } = loadTemplate(store, request.template);
  const { template: _template, ...own } = request;
  const merged: CreateSessionRequest = { ...stripRecordFields(preset), ...dropUndefined(own) };
  if (preset.env !== undefined || own.env !== undefined) merged.env = { ...preset.env, ...own.env };
  if (preset.labels !== undefined || own.labels !== undefined) merged.labels = { ...preset.labels, ...own.labels };
  if (preset.limits !== undefined || own.limits !== undefined) merged.limits = { ...preset.limits, ...own.limits };
  if (preset.secretEnv !== undefined || own.secretEnv !== undefined) {
    merged.secretEnv = [...new Set([...(preset.secretEnv ?? []), ...(own.secretEnv ?? [])])];
  }
  return merged;
}

function stripRecordFields(record: Omit<TemplateRecord, 'description'>): TemplateBody {
  const { name: _name, createdAt: _createdAt, updatedAt: _updatedAt, ...body } = record;
  return body;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
