import { describe, expect, it } from 'vitest';
import type { Lead } from '../../../types/api';
import { filterLeads, nextStep, overdueBanner, sortLeads } from './filters';

function lead(id: number, over: Partial<Lead> = {}): Lead {
  return {
    id,
    name: `Lead ${id}`,
    company: null,
    title: null,
    channel: null,
    context: null,
    status: 'reached_out',
    plan_outcome: null,
    status_reason: null,
    plan_status: 'active',
    plan_started_at: null,
    created_at: `2026-03-0${id}T09:00:00Z`,
    next_due_at: null,
    next_step_id: null,
    overdue_steps: 0,
    steps: [],
    ...over,
  };
}

const withStep = { steps: [{} as Lead['steps'][number]] };
const leads = [
  lead(1, { ...withStep, next_due_at: '2026-03-10T09:00:00Z' }),
  lead(2, { ...withStep, overdue_steps: 2, next_due_at: '2026-03-01T09:00:00Z' }),
  lead(3, { plan_status: 'none', name: 'Aaron' }),
  lead(4, { ...withStep, plan_status: 'paused', next_due_at: '2026-03-05T09:00:00Z' }),
  lead(5, { ...withStep, plan_status: 'completed', plan_outcome: 'closed_won', status: 'closed_won' }),
  lead(6, { ...withStep, plan_status: 'completed', plan_outcome: 'not_interested', status: 'closed_lost' }),
  lead(7, { ...withStep, plan_status: 'completed', plan_outcome: 'meeting_booked', status: 'meeting_booked' }),
];

describe('filterLeads', () => {
  it('keeps everything for all', () => {
    expect(filterLeads(leads, 'all').map((l) => l.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
  it('splits open leads from won and lost ones', () => {
    expect(filterLeads(leads, 'open').map((l) => l.id)).toEqual([1, 2, 3, 4, 7]);
    expect(filterLeads(leads, 'closed').map((l) => l.id)).toEqual([5, 6]);
  });
  it('keeps active plans only', () => {
    expect(filterLeads(leads, 'active').map((l) => l.id)).toEqual([1, 2]);
  });
  it('keeps leads with overdue steps', () => {
    expect(filterLeads(leads, 'overdue').map((l) => l.id)).toEqual([2]);
  });
  it('keeps leads without steps', () => {
    expect(filterLeads(leads, 'no_plan').map((l) => l.id)).toEqual([3]);
  });
  it('does not change its input', () => {
    const copy = [...leads];
    filterLeads(leads, 'overdue');
    expect(leads).toEqual(copy);
  });
});

describe('sortLeads', () => {
  it('puts the soonest next step first and leads with nothing due last', () => {
    expect(sortLeads(leads, 'next_due').map((l) => l.id)).toEqual([2, 4, 1, 3, 5, 6, 7]);
  });
  it('sorts by name', () => {
    expect(sortLeads(leads, 'name').map((l) => l.id)).toEqual([3, 1, 2, 4, 5, 6, 7]);
  });
  it('sorts newest first', () => {
    expect(sortLeads(leads, 'created').map((l) => l.id)).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });
  it('composes with a filter', () => {
    expect(sortLeads(filterLeads(leads, 'active'), 'next_due').map((l) => l.id)).toEqual([2, 1]);
  });
});

describe('nextStep', () => {
  it('finds the step the server named as next', () => {
    const s = { step_id: 7 } as Lead['steps'][number];
    expect(nextStep(lead(1, { next_step_id: 7, steps: [s] }))).toBe(s);
    expect(nextStep(lead(1))).toBeUndefined();
  });
});

describe('overdueBanner', () => {
  it('reads naturally in the singular and the plural', () => {
    expect(overdueBanner({ overdue_steps: 3, leads_with_overdue: 2 })).toBe('3 steps overdue across 2 leads');
    expect(overdueBanner({ overdue_steps: 1, leads_with_overdue: 1 })).toBe('1 step overdue across 1 lead');
    expect(overdueBanner({ overdue_steps: 0, leads_with_overdue: 0 })).toBeNull();
  });
});
