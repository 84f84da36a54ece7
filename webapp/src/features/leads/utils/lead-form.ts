// The lead editor's working copy, and the PATCH it sends: only what changed.
import type { Lead, LeadPatch, LeadStatus } from '../../../types/api';

export interface EditableLead {
  name: string;
  company: string;
  title: string;
  /** "" for none. */
  channel: string;
  context: string;
  status: LeadStatus;
  /** Why the status changed; sent only with a status change. */
  reason: string;
}

export function toEditableLead(lead: Lead): EditableLead {
  return {
    name: lead.name,
    company: lead.company ?? '',
    title: lead.title ?? '',
    channel: lead.channel ?? '',
    context: lead.context ?? '',
    status: lead.status,
    reason: '',
  };
}

const optional = (text: string): string | null => text.trim() || null;

/**
 * The body for PATCH /leads/{id}, or the field a person must fix first. Limits are the
 * server's to enforce: its 422 is shown beside the field it names.
 */
export function leadPatch(lead: Lead, form: EditableLead): { patch: LeadPatch } | { field: keyof EditableLead; error: string } {
  const name = form.name.trim();
  if (!name) return { field: 'name', error: 'The lead needs a name.' };
  const patch: LeadPatch = {};
  if (name !== lead.name) patch.name = name;
  const company = optional(form.company);
  if (company !== lead.company) patch.company = company;
  const title = optional(form.title);
  if (title !== lead.title) patch.title = title;
  const channel = form.channel || null;
  if (channel !== lead.channel) patch.channel = channel;
  const context = optional(form.context);
  if (context !== lead.context) patch.context = context;
  if (form.status !== lead.status) {
    patch.status = form.status;
    const reason = form.reason.trim();
    if (reason) patch.reason = reason;
  }
  return { patch };
}
