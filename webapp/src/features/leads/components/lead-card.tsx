import { Link } from 'react-router';
import type { Lead } from '../../../types/api';
import { nextStep } from '../utils/filters';
import { outcomeLabel, statusText } from '../utils/outcomes';
import { relativeDue, statusLabel } from '../utils/step-status';
import { StatusBadge } from './status-badge';

const PLAN_LABEL: Record<string, string> = {
  active: 'Active',
  paused: 'Paused',
  completed: 'Completed',
  none: 'No plan',
};

export function LeadCard({ lead, now, timeZone }: { lead: Lead; now: Date; timeZone: string }) {
  const step = nextStep(lead);
  const paused = lead.plan_status === 'paused';
  const outcome = lead.plan_outcome;
  return (
    <li>
      <Link
        to={`/leads/${lead.id}`}
        data-testid="lead-card"
        data-lead-id={lead.id}
        className="block rounded-2xl bg-section p-3 shadow-sm active:opacity-80"
      >
        <div className="flex items-start gap-2">
          <div className="min-w-0 flex-1">
            <div className="truncate font-semibold" data-testid="lead-name">
              {lead.name}
            </div>
            <div className="truncate text-sm text-hint">
              {[lead.title, lead.company].filter(Boolean).join(' · ') || '—'}
            </div>
          </div>
          <div className="flex shrink-0 flex-col items-end gap-0.5 text-xs">
            <span className="rounded-full bg-bg2 px-2 py-0.5 font-medium" data-testid="lead-status">
              {statusText(lead.status)}
            </span>
            <span className="text-hint">{outcome ? 'Finished' : (PLAN_LABEL[lead.plan_status] ?? lead.plan_status)}</span>
          </div>
        </div>
        {outcome ? (
          <div className="mt-2 flex flex-wrap items-center gap-2 text-sm" data-testid="lead-outcome">
            <StatusBadge label={outcomeLabel(outcome)} />
            {lead.status_reason && <span className="min-w-0 flex-1 truncate text-hint">{lead.status_reason}</span>}
          </div>
        ) : step ? (
          <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
            <StatusBadge label={statusLabel(step, paused, now, timeZone)} />
            <span className="min-w-0 flex-1 truncate">{step.description}</span>
            {step.due_at && !paused && (
              <span data-testid="next-due" className={`shrink-0 text-xs font-medium ${step.overdue_days > 0 ? 'text-danger' : 'text-hint'}`}>
                {relativeDue(step.due_at, now, timeZone)}
              </span>
            )}
          </div>
        ) : (
          <div className="mt-2 text-sm text-hint">{lead.steps.length ? 'Every step is closed' : 'No plan yet'}</div>
        )}
      </Link>
    </li>
  );
}
