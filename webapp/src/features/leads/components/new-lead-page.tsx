import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Page } from '../../../components/page';
import { Section } from '../../../components/section';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import type { LeadInput } from '../../../types/api';
import { useCreateLead } from '../api/create-lead';
import { blankStep, toInput, type EditableStep } from '../utils/plan-draft';
import { StepsEditor } from './steps-editor';

const field = 'w-full rounded-lg bg-bg2 px-2 py-1.5';

export function NewLeadPage() {
  const [name, setName] = useState('');
  const [company, setCompany] = useState('');
  const [title, setTitle] = useState('');
  const [context, setContext] = useState('');
  const [mode, setMode] = useState<'generate' | 'manual'>('manual');
  const [steps, setSteps] = useState<EditableStep[]>(() => [blankStep([])]);
  const [problem, setProblem] = useState<string | null>(null);
  const create = useCreateLead();
  const navigate = useNavigate();

  const submit = () => {
    if (!name.trim()) {
      setProblem('The lead needs a name.');
      return;
    }
    const body: LeadInput = {
      name: name.trim(),
      company: company.trim() || null,
      title: title.trim() || null,
      context: context.trim() || null,
    };
    if (mode === 'generate') {
      body.generate_plan = true;
    } else {
      const input = toInput(steps);
      if ('error' in input) {
        setProblem(input.error);
        return;
      }
      body.plan = { steps: input.steps };
    }
    setProblem(null);
    create.mutate(body, {
      onSuccess: (lead) => {
        haptic('success');
        void navigate(`/leads/${lead.id}`, { replace: true });
      },
      onError: (e) => {
        haptic('error');
        const detail = e instanceof ApiError ? e.detail : String(e);
        setProblem(
          mode === 'generate' && e instanceof ApiError && e.status === 422 && detail.includes('generate_plan')
            ? `The server cannot write a plan right now (${detail}). Type the steps in instead.`
            : detail,
        );
      },
    });
  };

  return (
    <Page title="New lead" back>
      <Section>
        <div className="flex flex-col gap-2">
          <label className="text-sm">
            Name*
            <input className={field} value={name} data-testid="lead-name-input" onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="text-sm">
            Company
            <input className={field} value={company} onChange={(e) => setCompany(e.target.value)} />
          </label>
          <label className="text-sm">
            Title
            <input className={field} value={title} onChange={(e) => setTitle(e.target.value)} />
          </label>
          <label className="text-sm">
            Context (what you know; the plan and drafts use it)
            <textarea className={field} rows={3} value={context} onChange={(e) => setContext(e.target.value)} />
          </label>
        </div>
      </Section>
      <div role="radiogroup" aria-label="Plan" className="mb-3 grid grid-cols-2 gap-1 rounded-xl bg-section p-1">
        {(['generate', 'manual'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={mode === m}
            data-testid={`plan-mode-${m}`}
            onClick={() => setMode(m)}
            className={`rounded-lg py-1.5 text-sm ${mode === m ? 'bg-button text-button-fg' : 'text-fg'}`}
          >
            {m === 'generate' ? 'Write the plan for me' : 'Type the steps'}
          </button>
        ))}
      </div>
      {mode === 'manual' ? (
        <StepsEditor steps={steps} onChange={setSteps} />
      ) : (
        <p className="mb-2 px-2 text-sm text-hint">A plan of 5–8 steps is written from the context above.</p>
      )}
      {problem && (
        <p role="alert" data-testid="form-error" className="mt-2 text-sm text-danger">
          {problem}
        </p>
      )}
      <button
        type="button"
        data-testid="create-lead"
        disabled={create.isPending}
        onClick={submit}
        className="mt-3 w-full rounded-xl bg-button py-2.5 font-medium text-button-fg disabled:opacity-50"
      >
        {create.isPending ? 'Saving…' : 'Create lead'}
      </button>
    </Page>
  );
}
