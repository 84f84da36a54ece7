import { formatDateTime } from '../../../lib/time';
import type { Activity } from '../../../types/api';

const WORDS: Record<string, string> = {
  plan_activated: 'Plan started',
  step_reminder_sent: 'Reminder sent',
  step_nudged: 'Nudge sent',
  step_completed: 'Step done',
  step_skipped: 'Step skipped',
  step_snoozed: 'Step snoozed',
  step_auto_snoozed: 'Step auto-snoozed after no answer',
  plan_completed: 'Plan completed',
  plan_paused: 'Plan paused',
  plan_resumed: 'Plan resumed',
  plan_edited: 'Plan edited',
  plan_reconciled: 'Plan repaired',
  note_added: 'Note',
};

export function ActivityLog({ activity, timeZone }: { activity: Activity[]; timeZone: string }) {
  if (activity.length === 0) return <p className="text-sm text-hint">Nothing yet.</p>;
  return (
    <ol className="flex flex-col gap-2" data-testid="activity">
      {activity.map((entry) => {
        const note = entry.activity_type === 'note_added' ? entry.details.text : undefined;
        return (
          <li key={entry.id} className="text-sm">
            <span className="font-medium">{WORDS[entry.activity_type] ?? entry.activity_type}</span>
            {entry.step_id !== null && <span className="text-hint"> · step {entry.step_id}</span>}
            <span className="text-hint"> · {formatDateTime(entry.created_at, timeZone)}</span>
            {typeof note === 'string' && <p className="whitespace-pre-wrap">{note}</p>}
          </li>
        );
      })}
    </ol>
  );
}
