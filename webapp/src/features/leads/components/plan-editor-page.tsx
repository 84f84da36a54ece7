import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Page } from '../../../components/page';
import { Spinner } from '../../../components/spinner';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import type { LeadDetail } from '../../../types/api';
import { useReplaceSteps } from '../api/plan-edits';
import { usePlan } from '../api/plans';
import { toEditable, toInput, type EditableStep } from '../utils/plan-draft';
import { StepsEditor } from './steps-editor';

export function PlanEditorPage() {
  const leadId = Number(useParams().leadId);
  const plan = usePlan(leadId);
  if (plan.isPending) {
    return (
      <Page title="Edit plan" back>
        <Spinner />
      </Page>
    );
  }
  if (plan.isError) {
    return (
      <Page title="Edit plan" back>
        <p className="p-4 text-danger">{plan.error instanceof ApiError ? plan.error.detail : String(plan.error)}</p>
      </Page>
    );
  }
  return <Editor lead={plan.data} />;
}

function Editor({ lead }: { lead: LeadDetail }) {
  const [steps, setSteps] = useState<EditableStep[]>(() => toEditable(lead.steps));
  const [problem, setProblem] = useState<string | null>(null);
  const save = useReplaceSteps(lead.id);
  const navigate = useNavigate();
  const toast = useToast();
  return (
    <Page title={`Plan for ${lead.name}`} back>
      <StepsEditor steps={steps} onChange={setSteps} />
      {problem && (
        <p role="alert" className="mt-2 text-sm text-danger">
          {problem}
        </p>
      )}
      <button
        type="button"
        data-testid="save-plan"
        disabled={save.isPending}
        className="mt-3 w-full rounded-xl bg-button py-2.5 font-medium text-button-fg disabled:opacity-50"
        onClick={() => {
          const input = toInput(steps);
          if ('error' in input) {
            haptic('warning');
            setProblem(input.error);
            return;
          }
          setProblem(null);
          save.mutate(input.steps, {
            onSuccess: () => {
              haptic('success');
              toast.show('Plan saved; open steps rescheduled');
              void navigate(`/leads/${lead.id}`, { replace: true });
            },
            onError: (e) => {
              haptic('error');
              setProblem(e instanceof ApiError ? e.detail : String(e));
            },
          });
        }}
      >
        Save plan
      </button>
    </Page>
  );
}
