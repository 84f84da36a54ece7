import { useState } from 'react';
import { Link } from 'react-router';
import { ErrorScreen } from '../../../components/error-screen';
import { Page } from '../../../components/page';
import { Spinner } from '../../../components/spinner';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { useNow } from '../../../lib/use-now';
import { useMe } from '../../../lib/me';
import { usePlans } from '../api/plans';
import { LEAD_STATUSES } from '../../../types/api';
import { FILTERS, filterLeads, overdueBanner, sortLeads, type LeadFilter, type LeadSort } from '../utils/filters';
import { STATUS_LABELS } from '../utils/outcomes';
import { LeadCard } from './lead-card';

export function Dashboard() {
  const plans = usePlans();
  const me = useMe();
  const now = useNow();
  const [filter, setFilter] = useState<LeadFilter>('all');
  const [sort, setSort] = useState<LeadSort>('next_due');
  const timeZone = me.data?.timezone ?? 'UTC';

  const actions = (
    <>
      <Link to="/settings" className="rounded-lg px-2 py-1 text-link" aria-label="Settings">
        ⚙︎
      </Link>
      <Link to="/leads/new" data-testid="new-lead" className="rounded-lg bg-button px-3 py-1 text-sm text-button-fg">
        + Lead
      </Link>
    </>
  );

  if (plans.isPending) {
    return (
      <Page title="Your plans" actions={actions}>
        <Spinner />
      </Page>
    );
  }
  if (plans.isError) {
    return (
      <ErrorScreen
        title="Cannot load your plans"
        detail={plans.error instanceof ApiError ? plans.error.detail : String(plans.error)}
        onRetry={() => void plans.refetch()}
      />
    );
  }

  const { summary, leads } = plans.data;
  const banner = overdueBanner(summary);
  const shown = sortLeads(filterLeads(leads, filter), sort);

  return (
    <Page title="Your plans" actions={actions}>
      {me.data?.reminders_paused && (
        <p className="mb-3 rounded-2xl bg-slate-200 p-3 text-sm text-slate-800 dark:bg-slate-700 dark:text-slate-100">
          ‖ Reminders are paused. <Link to="/settings" className="underline">Resume in settings</Link>
        </p>
      )}
      {banner && (
        <p role="status" data-testid="overdue-banner" className="mb-3 rounded-2xl bg-red-100 p-3 font-medium text-red-900 dark:bg-red-900/50 dark:text-red-100">
          ⚠ {banner}
        </p>
      )}
      <div className="mb-3 grid grid-cols-2 gap-2">
        <div className="rounded-2xl bg-section p-3">
          <div className="text-2xl font-bold" data-testid="count-active">
            {summary.active_plans}
          </div>
          <div className="text-sm text-hint">active plans</div>
        </div>
        <div className="rounded-2xl bg-section p-3">
          <div className="text-2xl font-bold" data-testid="count-due-today">
            {summary.due_today}
          </div>
          <div className="text-sm text-hint">steps due today</div>
        </div>
      </div>
      {summary.by_status && summary.total_leads > 0 && (
        <p className="mb-3 px-1 text-sm text-hint" data-testid="by-status">
          {LEAD_STATUSES.filter((s) => (summary.by_status[s] ?? 0) > 0)
            .map((s) => `${STATUS_LABELS[s]} ${summary.by_status[s]}`)
            .join(' · ')}
        </p>
      )}
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <div role="group" aria-label="Filter leads" className="flex flex-wrap gap-1">
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              aria-pressed={filter === f.value}
              data-testid={`filter-${f.value}`}
              onClick={() => {
                haptic('tap');
                setFilter(f.value);
              }}
              className={`rounded-full px-3 py-1 text-sm ${
                filter === f.value ? 'bg-button text-button-fg' : 'bg-section text-fg'
              }`}
            >
              {f.label}
            </button>
          ))}
        </div>
        <label className="ml-auto flex items-center gap-1 text-sm text-hint">
          Sort
          <select
            data-testid="sort"
            value={sort}
            onChange={(e) => setSort(e.target.value as LeadSort)}
            className="rounded-lg bg-section px-2 py-1 text-fg"
          >
            <option value="next_due">Next due step</option>
            <option value="name">Name</option>
            <option value="created">Newest</option>
          </select>
        </label>
      </div>
      {shown.length === 0 ? (
        <p className="p-6 text-center text-hint" data-testid="empty">
          {leads.length === 0 ? 'No leads yet. Add your first one.' : 'No leads match this filter.'}
        </p>
      ) : (
        <ul className="flex flex-col gap-2" data-testid="lead-list">
          {shown.map((lead) => (
            <LeadCard key={lead.id} lead={lead} now={now} timeZone={timeZone} />
          ))}
        </ul>
      )}
    </Page>
  );
}
