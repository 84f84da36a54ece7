import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorScreen } from '../../../components/error-screen';
import { Page } from '../../../components/page';
import { Section } from '../../../components/section';
import { Spinner } from '../../../components/spinner';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { useNow } from '../../../lib/use-now';
import { useMe } from '../../../lib/me';
import { useDeleteLead, usePausePlan } from '../api/plan-edits';
import { usePlan } from '../api/plans';
import { useStepActions } from '../hooks/use-step-actions';
import { canRecordOutcome, outcomeLabel, statusText } from '../utils/outcomes';
import { ActivityLog } from './activity-log';
import { NoteForm } from './note-form';
import { StatusBadge } from './status-badge';
import { StepItem } from './step-item';

// Opened now and then, so it is not part of the first screen's JavaScript.
const OutcomeSheet = lazy(() => import('./outcome-sheet').then((m) => ({ default: m.OutcomeSheet })));

const small = 'rounded-xl bg-bg2 px-3 py-1.5 text-sm text-link';

export function LeadPage() {
  const leadId = Number(useParams().leadId);
  const plan = usePlan(leadId);
  const me = useMe();
  const now = useNow();
  const actions = useStepActions(leadId);
  const pause = usePausePlan(leadId);
  const remove = useDeleteLead(leadId);
  const toast = useToast();
  const navigate = useNavigate();
  const [outcomeOpen, setOutcomeOpen] = useState(false);
  const timeZone = me.data?.timezone ?? 'UTC';

  if (plan.isPending) {
    return (
      <Page title="Lead" back>
        <Spinner />
      </Page>
    );
  }
  if (plan.isError) {
    const notFound = plan.error instanceof ApiError && plan.error.status === 404;
    return (
      <ErrorScreen
        title={notFound ? 'No such lead' : 'Cannot load this lead'}
        detail={notFound ? 'It may have been deleted.' : plan.error instanceof ApiError ? plan.error.detail : String(plan.error)}
        onRetry={notFound ? undefined : () => void plan.refetch()}
      />
    );
  }
  const lead = plan.data;
  const paused = lead.plan_status === 'paused';
  const canPause = lead.plan_status === 'active' || paused;
  const outcome = lead.plan_outcome;

  return (
    <Page title={lead.name} back>
      <Section>
        <div className="text-sm text-hint">{[lead.title, lead.company].filter(Boolean).join(' · ') || 'No company or title'}</div>
        {lead.context && <p className="mt-1 text-sm whitespace-pre-wrap">{lead.context}</p>}
        <div className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-sm">
          <span data-testid="lead-status">
            Status: <strong>{statusText(lead.status)}</strong>
          </span>
          <span data-testid="plan-status">
            Plan: <strong>{lead.plan_status === 'none' ? 'none' : outcome ? 'finished' : lead.plan_status}</strong>
          </span>
          {lead.channel && (
            <span data-testid="lead-channel">
              Channel: <strong>{lead.channel}</strong>
            </span>
          )}
        </div>
        {lead.status_reason && (
          <p className="mt-1 text-sm text-hint" data-testid="status-reason">
            “{lead.status_reason}”
          </p>
        )}
        <div className="mt-2 flex flex-wrap items-center gap-2">
          {canRecordOutcome(lead) && (
            <button
              type="button"
              data-testid="record-outcome"
              className="rounded-xl bg-button px-3 py-1.5 text-sm font-medium text-button-fg"
              onClick={() => {
                haptic('tap');
                setOutcomeOpen(true);
              }}
            >
              ⚑ Outcome
            </button>
          )}
          {canPause && (
            <button
              type="button"
              data-testid={paused ? 'resume-plan' : 'pause-plan'}
              disabled={pause.isPending}
              onClick={() => {
                haptic('tap');
                pause.mutate(!paused, {
                  onSuccess: () => toast.show(paused ? 'Plan resumed' : 'Plan paused'),
                  onError: (e) => toast.show(`Could not change the plan: ${e instanceof ApiError ? e.detail : String(e)}`, 'error'),
                });
              }}
              className={small}
            >
              {paused ? '▶ Resume plan' : '‖ Pause plan'}
            </button>
          )}
          <Link to={`/leads/${lead.id}/details`} data-testid="edit-lead" className={small}>
            ✎ Edit lead
          </Link>
          <Link to={`/leads/${lead.id}/edit`} data-testid="edit-plan" className={small}>
            ✎ Edit plan
          </Link>
        </div>
      </Section>

      <h2 className="px-3 pb-2 text-xs font-semibold tracking-wide text-hint uppercase">Plan</h2>
      {outcome && (
        <Section>
          <div data-testid="plan-outcome" className="flex flex-wrap items-center gap-2 text-sm">
            <StatusBadge label={outcomeLabel(outcome)} />
            <span className="text-hint">The plan is finished; its steps are kept as history.</span>
          </div>
        </Section>
      )}
      {lead.steps.length === 0 ? (
        <Section>
          <p className="text-sm text-hint">No steps yet. Use “Edit plan” to add some.</p>
        </Section>
      ) : (
        <ol className="px-1" data-testid="timeline">
          {lead.steps.map((step, index) => (
            <StepItem
              key={step.step_id}
              step={step}
              last={index === lead.steps.length - 1}
              planPaused={paused}
              planFinished={outcome !== null}
              now={now}
              timeZone={timeZone}
              onAction={actions.run}
            />
          ))}
        </ol>
      )}

      <Section title="Add a note">
        <NoteForm leadId={lead.id} />
      </Section>

      <Section title="Activity">
        <ActivityLog activity={lead.activity} timeZone={timeZone} />
      </Section>

      <div className="mt-4 mb-8 text-center">
        <button
          type="button"
          className="text-sm text-danger"
          onClick={() => {
            if (!window.confirm(`Delete ${lead.name} and the whole plan?`)) return;
            remove.mutate(undefined, {
              onSuccess: () => {
                haptic('success');
                void navigate('/', { replace: true });
              },
              onError: (e) => toast.show(`Could not delete: ${e instanceof ApiError ? e.detail : String(e)}`, 'error'),
            });
          }}
        >
          Delete lead
        </button>
      </div>
      {outcomeOpen && (
        <Suspense fallback={null}>
          <OutcomeSheet lead={lead} onClose={() => setOutcomeOpen(false)} />
        </Suspense>
      )}
    </Page>
  );
}
