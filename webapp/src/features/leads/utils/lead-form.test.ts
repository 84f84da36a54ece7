import { describe, expect, it } from 'vitest';
import type { Lead } from '../../../types/api';
import { leadPatch, toEditableLead } from './lead-form';

const LEAD: Lead = {
  id: 3, name: 'Ana Lima', company: 'Acme', title: null, channel: 'email', context: 'Met at the expo',
  status: 'reached_out', plan_outcome: null, status_reason: null, plan_status: 'active', plan_started_at: null,
  created_at: '2026-03-01T09:00:00Z', next_due_at: null, next_step_id: null, overdue_steps: 0, steps: [],
};

describe('leadPatch', () => {
  it('sends nothing when nothing changed', () => {
    expect(leadPatch(LEAD, toEditableLead(LEAD))).toEqual({ patch: {} });
  });

  it('sends only the changed fields, trimmed, with cleared ones as null', () => {
    const form = { ...toEditableLead(LEAD), name: ' Ana Lima-Souza ', company: '  ', title: 'CFO', channel: '', context: 'Met at the expo' };
    expect(leadPatch(LEAD, form)).toEqual({ patch: { name: 'Ana Lima-Souza', company: null, title: 'CFO', channel: null } });
  });

  it('sends a reason only with a status change', () => {
    const base = toEditableLead(LEAD);
    expect(leadPatch(LEAD, { ...base, reason: 'ignored' })).toEqual({ patch: {} });
    expect(leadPatch(LEAD, { ...base, status: 'closed_lost', reason: ' Chose a competitor ' })).toEqual({
      patch: { status: 'closed_lost', reason: 'Chose a competitor' },
    });
    expect(leadPatch(LEAD, { ...base, status: 'in_progress', reason: ' ' })).toEqual({ patch: { status: 'in_progress' } });
  });

  it('asks for a name before sending', () => {
    expect(leadPatch(LEAD, { ...toEditableLead(LEAD), name: '   ' })).toEqual({ field: 'name', error: 'The lead needs a name.' });
  });
});
