import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { useStepAction, useUndoStep } from '../api/step-actions';
import type { StepAction } from '../utils/optimistic';
import { undoWindowMs } from '../utils/undo';

const VERBS: Record<StepAction['kind'], string> = {
  complete: 'mark the step done',
  skip: 'skip the step',
  snooze: 'snooze the step',
};

/** A step action with its feedback: a haptic tap now, a clear word if it is undone, and Undo. */
export function useStepActions(leadId: number) {
  const mutation = useStepAction();
  const undo = useUndoStep();
  const toast = useToast();

  const runUndo = (reminderId: number) => {
    haptic('tap');
    // mutateAsync, not mutate's callbacks: the toast outlives the page, and so must its answer.
    undo.mutateAsync({ leadId, reminderId }).then(
      () => {
        haptic('success');
        toast.show('Undone');
      },
      (error: unknown) => {
        haptic('error');
        toast.show(`Could not undo: ${error instanceof ApiError ? error.detail : String(error)}`, 'error');
      },
    );
  };

  const run = (reminderId: number, action: StepAction) => {
    haptic('tap');
    mutation.mutate(
      { leadId, reminderId, action },
      {
        onSuccess: (change) => {
          haptic('success');
          const text =
            action.kind === 'snooze'
              ? `Snoozed for ${action.days} ${action.days === 1 ? 'day' : 'days'}`
              : change.plan_completed
                ? 'Plan completed 🎉'
                : action.kind === 'complete'
                  ? 'Marked done'
                  : 'Skipped';
          const forMs = undoWindowMs(change.undo_until, Date.now());
          toast.show(text, 'info', forMs > 0 ? { label: 'Undo', forMs, onClick: () => runUndo(reminderId) } : undefined);
        },
        onError: (error) => {
          haptic('error');
          const why =
            error instanceof ApiError && error.status === 409
              ? 'it was already closed elsewhere'
              : error instanceof ApiError
                ? error.detail
                : String(error);
          toast.show(`Could not ${VERBS[action.kind]}: ${why}. Change undone.`, 'error');
        },
      },
    );
  };
  return { run, pending: mutation.isPending ? mutation.variables : undefined };
}
