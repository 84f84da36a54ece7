import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { useStepAction } from '../api/step-actions';
import type { StepAction } from '../utils/optimistic';

const VERBS: Record<StepAction['kind'], string> = {
  complete: 'mark the step done',
  skip: 'skip the step',
  snooze: 'snooze the step',
};

/** A step action with its feedback: a haptic tap now, and a clear word if it is undone. */
export function useStepActions(leadId: number) {
  const mutation = useStepAction();
  const toast = useToast();
  const run = (reminderId: number, action: StepAction) => {
    haptic('tap');
    mutation.mutate(
      { leadId, reminderId, action },
      {
        onSuccess: (change) => {
          haptic('success');
          if (action.kind === 'snooze') toast.show(`Snoozed for ${action.days} ${action.days === 1 ? 'day' : 'days'}`);
          else if (change.plan_completed) toast.show('Plan completed 🎉');
          else toast.show(action.kind === 'complete' ? 'Marked done' : 'Skipped');
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
