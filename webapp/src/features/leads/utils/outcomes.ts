// How a lead stands and how its plan ended, in words (the badges' colours only repeat them).
import type { Lead, LeadStatus, PlanOutcome } from '../../../types/api';
import { MAX_REASON } from '../../../types/api';
import type { StatusLabel } from './step-status';

export const OUTCOME_LABELS: Record<PlanOutcome, string> = {
  replied: 'Replied',
  meeting_booked: 'Meeting booked',
  not_interested: 'Not interested',
  closed_won: 'Won',
  closed_lost: 'Lost',
};

export const STATUS_LABELS: Record<LeadStatus, string> = {
  analyzed: 'Analyzed',
  reached_out: 'Reached out',
  in_progress: 'In progress',
  meeting_booked: 'Meeting booked',
  closed_won: 'Won',
  closed_lost: 'Lost',
};

const OUTCOME_BADGES: Record<PlanOutcome, Pick<StatusLabel, 'tone' | 'icon'>> = {
  replied: { tone: 'blue', icon: '↩' },
  meeting_booked: { tone: 'purple', icon: '◷' },
  not_interested: { tone: 'gray', icon: '–' },
  closed_won: { tone: 'green', icon: '★' },
  closed_lost: { tone: 'red', icon: '✕' },
};

/** The badge for a finished plan: "Outcome: Won". */
export function outcomeLabel(outcome: PlanOutcome): StatusLabel {
  return { text: `Outcome: ${OUTCOME_LABELS[outcome]}`, ...OUTCOME_BADGES[outcome] };
}

/** Labels a status the server sends, even one newer than this app. */
export function statusText(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status.replaceAll('_', ' ');
}

export function isClosed(status: string): boolean {
  return status === 'closed_won' || status === 'closed_lost';
}

/** A plan finished with an outcome: its steps take no more actions. */
export function isFinished(lead: Pick<Lead, 'plan_outcome'>): boolean {
  return lead.plan_outcome !== null;
}

/** An outcome can be recorded for a plan that exists and has none yet. */
export function canRecordOutcome(lead: Pick<Lead, 'plan_status' | 'plan_outcome'>): boolean {
  return lead.plan_status !== 'none' && lead.plan_outcome === null;
}

/** "12/200": how much of a reason is used. */
export function reasonCounter(reason: string): string {
  return `${reason.length}/${MAX_REASON}`;
}
