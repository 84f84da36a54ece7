// The dashboard's quick filters and sort, applied on the client so switching is instant.
import type { Lead, Step, Summary } from '../../../types/api';
import { isClosed } from './outcomes';

export type LeadFilter = 'all' | 'active' | 'overdue' | 'no_plan' | 'open' | 'closed';
export type LeadSort = 'next_due' | 'name' | 'created';

export const FILTERS: { value: LeadFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'active', label: 'Active plan' },
  { value: 'overdue', label: 'Overdue' },
  { value: 'no_plan', label: 'No plan' },
  { value: 'open', label: 'Open' },
  { value: 'closed', label: 'Closed' },
];

export function filterLeads(leads: readonly Lead[], filter: LeadFilter): Lead[] {
  switch (filter) {
    case 'all':
      return [...leads];
    case 'active':
      return leads.filter((lead) => lead.plan_status === 'active');
    case 'overdue':
      return leads.filter((lead) => lead.overdue_steps > 0);
    case 'no_plan':
      return leads.filter((lead) => lead.steps.length === 0);
    // As GET /plans?filter=open|closed: closed means won or lost.
    case 'open':
      return leads.filter((lead) => !isClosed(lead.status));
    case 'closed':
      return leads.filter((lead) => isClosed(lead.status));
  }
}

/** Soonest next step first; leads with nothing due go last; ties keep a stable order. */
export function sortLeads(leads: readonly Lead[], sort: LeadSort): Lead[] {
  const copy = [...leads];
  if (sort === 'name') {
    return copy.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  }
  if (sort === 'created') {
    return copy.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
  }
  return copy.sort((a, b) => {
    if (a.next_due_at === null && b.next_due_at === null) return a.id - b.id;
    if (a.next_due_at === null) return 1;
    if (b.next_due_at === null) return -1;
    return Date.parse(a.next_due_at) - Date.parse(b.next_due_at) || a.id - b.id;
  });
}

export function nextStep(lead: Lead): Step | undefined {
  if (lead.next_step_id === null) return undefined;
  return lead.steps.find((step) => step.step_id === lead.next_step_id);
}

/** "3 steps overdue across 2 leads", or null when nothing is overdue. */
export function overdueBanner(summary: Pick<Summary, 'overdue_steps' | 'leads_with_overdue'>): string | null {
  const steps = summary.overdue_steps;
  const leads = summary.leads_with_overdue;
  if (steps === 0) return null;
  return `${steps} ${steps === 1 ? 'step' : 'steps'} overdue across ${leads} ${leads === 1 ? 'lead' : 'leads'}`;
}
