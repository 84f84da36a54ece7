import { formatDateTime } from '../../../lib/time';
import type { Activity } from '../../../types/api';
import { describeActivity } from '../utils/activity';

export function ActivityLog({ activity, timeZone }: { activity: Activity[]; timeZone: string }) {
  if (activity.length === 0) return <p className="text-sm text-hint">Nothing yet.</p>;
  return (
    <ol className="flex flex-col gap-2" data-testid="activity">
      {activity.map((entry) => {
        const { title, body } = describeActivity(entry);
        return (
          <li key={entry.id} className="text-sm" data-testid="activity-entry" data-type={entry.activity_type}>
            <span className="font-medium">{title}</span>
            {entry.step_id !== null && <span className="text-hint"> · step {entry.step_id}</span>}
            <span className="text-hint"> · {formatDateTime(entry.created_at, timeZone)}</span>
            {body !== undefined && <p className="whitespace-pre-wrap">{body}</p>}
          </li>
        );
      })}
    </ol>
  );
}
