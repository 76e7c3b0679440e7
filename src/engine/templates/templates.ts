// Session templates: named, stored presets of a create request (profile, command, env, size, limits,
// auto-answers). Validates what is stored and merges a template under a create request; the request wins.
// It never starts a session itself and never stores anything it has not validated.

import { templateBodySchema, type CreateSessionRequest, type TemplateBody } from '../../common/api.js';
import { CorralError } from '../../common/errors.js';
import type { Store } from '../../store/Store.js';
import type { NamedBody } from '../../store/storeTypes.js';

export interface TemplateRecord extends TemplateBody {
  name: string;
  createdAt: string;
  updatedAt: string;
}

function toRecord(stored: NamedBody): TemplateRecord {
  // Stored bodies were validated on the way in; parse again so an older, looser body cannot slip through.
  return { ...templateBodySchema.parse(stored.body), name: stored.name, createdAt: stored.createdAt, updatedAt: stored.updatedAt };
}

export function putTemplate(store: Store, name: string, body: TemplateBody): TemplateRecord {
  return toRecord(store.putTemplate(name, templateBodySchema.parse(body)));
}

export function getTemplate(store: Store, name: string): TemplateRecord {
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

export function listTemplates(store: Store): TemplateRecord[] {
  return store.listTemplates().map(toRecord);
}

export function deleteTemplate(store: Store, name: string): void {
  getTemplate(store, name);
  store.deleteTemplate(name);
}

/** The create request with its template's fields underneath: request fields win, env and labels merge. */
export function applyTemplate(store: Store, request: CreateSessionRequest): CreateSessionRequest {
  if (request.template === undefined) return request;
  const { description: _description, ...preset } = getTemplate(store, request.template);
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
