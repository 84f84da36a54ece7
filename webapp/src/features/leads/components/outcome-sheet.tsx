import { useState } from 'react';
import { Sheet } from '../../../components/sheet';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { MAX_REASON, PLAN_OUTCOMES, type Lead, type PlanOutcome } from '../../../types/api';
import { useFinishPlan } from '../api/plan-edits';
import { OUTCOME_LABELS, reasonCounter } from '../utils/outcomes';

/** How the plan went: one of five outcomes and, if wanted, why. Loaded only when opened. */
export function OutcomeSheet({ lead, onClose }: { lead: Pick<Lead, 'id' | 'name'>; onClose: () => void }) {
  const [outcome, setOutcome] = useState<PlanOutcome | null>(null);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const finish = useFinishPlan(lead.id);
  const toast = useToast();

  const submit = () => {
    if (outcome === null) return;
    setProblem(null);
    const why = reason.trim();
    finish.mutate(why ? { outcome, reason: why } : { outcome }, {
      onSuccess: (result) => {
        haptic('success');
        const words = OUTCOME_LABELS[outcome];
        toast.show(result.changed ? `Plan finished: ${words}` : `Already recorded as ${words}`);
        onClose();
      },
      onError: (error) => {
        haptic('error');
        setProblem(error instanceof ApiError ? error.detail : String(error));
      },
    });
  };

  return (
    <Sheet title={`How did it go with ${lead.name}?`} onClose={onClose} testId="outcome-sheet">
      <p className="mb-3 text-sm text-hint">Recording an outcome finishes the plan: its open steps send no more reminders.</p>
      <div role="radiogroup" aria-label="Outcome" className="flex flex-col gap-1.5">
        {PLAN_OUTCOMES.map((value) => (
          <button
            key={value}
            type="button"
            role="radio"
            aria-checked={outcome === value}
            data-testid={`outcome-${value}`}
            onClick={() => {
              haptic('tap');
              setOutcome(value);
            }}
            className={`flex items-center gap-2 rounded-xl px-3 py-2.5 text-left ${
              outcome === value ? 'bg-button text-button-fg' : 'bg-bg2 text-fg'
            }`}
          >
            <span aria-hidden className="w-4 text-center">
              {outcome === value ? '●' : '○'}
            </span>
            {OUTCOME_LABELS[value]}
          </button>
        ))}
      </div>
      <label className="mt-3 block text-sm">
        Reason (optional)
        <textarea
          className="mt-1 w-full rounded-lg bg-bg2 px-2 py-1.5"
          rows={2}
          maxLength={MAX_REASON}
          value={reason}
          data-testid="outcome-reason"
          aria-describedby="outcome-reason-count"
          placeholder="e.g. Budget frozen until Q3"
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <div id="outcome-reason-count" className="text-right text-xs text-hint" data-testid="outcome-reason-count">
        {reasonCounter(reason)}
      </div>
      {problem && (
        <p role="alert" data-testid="outcome-error" className="mt-1 text-sm text-danger">
          {problem}
        </p>
      )}
      <div className="mt-3 grid grid-cols-2 gap-2">
        <button type="button" className="rounded-xl bg-bg2 py-2.5 text-link" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          data-testid="finish-plan"
          disabled={outcome === null || finish.isPending}
          onClick={submit}
          className="rounded-xl bg-button py-2.5 font-medium text-button-fg disabled:opacity-50"
        >
          {finish.isPending ? 'Saving…' : 'Finish plan'}
        </button>
      </div>
    </Sheet>
  );
}
