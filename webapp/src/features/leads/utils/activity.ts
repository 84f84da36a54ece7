// One activity log entry in words: what happened, and the text that came with it.
import type { Activity, PlanOutcome } from '../../../types/api';
import { OUTCOME_LABELS, statusText } from './outcomes';

const WORDS: Record<string, string> = {
  plan_activated: 'Plan started',
  step_reminder_sent: 'Reminder sent',
  step_nudged: 'Nudge sent',
  step_completed: 'Step done',
  step_skipped: 'Step skipped',
  step_snoozed: 'Step snoozed',
  step_auto_snoozed: 'Step auto-snoozed after no answer',
  step_undone: 'Step action undone',
  plan_completed: 'Plan completed',
  plan_paused: 'Plan paused',
  plan_resumed: 'Plan resumed',
  plan_edited: 'Plan edited',
  plan_reconciled: 'Plan repaired',
  note_added: 'Note',
};

export interface ActivityText {
  title: string;
  /** A note's text or the reason given, shown under the title. */
  body?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value : undefined);

function outcomeText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return (OUTCOME_LABELS as Record<string, string>)[value as PlanOutcome] ?? value.replaceAll('_', ' ');
}

export function describeActivity(entry: Pick<Activity, 'activity_type' | 'details'>): ActivityText {
  const { details } = entry;
  switch (entry.activity_type) {
    case 'note_added':
      return { title: 'Note', body: text(details.text) };
    case 'status_change': {
      const from = text(details.from);
      const to = text(details.to);
      const change = from && to ? `${statusText(from)} → ${statusText(to)}` : to ? statusText(to) : 'changed';
      return { title: `Status: ${change}`, body: text(details.reason) };
    }
    case 'plan_finished': {
      const outcome = outcomeText(details.outcome);
      return { title: outcome ? `Plan finished: ${outcome}` : 'Plan finished', body: text(details.reason) };
    }
    default:
      return { title: WORDS[entry.activity_type] ?? entry.activity_type.replaceAll('_', ' ') };
  }
}
