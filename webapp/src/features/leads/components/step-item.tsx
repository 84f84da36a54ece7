import { useState } from 'react';
import { useToast } from '../../../components/toast';
import { formatDateTime } from '../../../lib/time';
import { copyText, haptic } from '../../../lib/telegram';
import type { Step } from '../../../types/api';
import { useDraft } from '../api/draft';
import type { StepAction } from '../utils/optimistic';
import { isOpen, relativeDue, statusLabel } from '../utils/step-status';
import { DOT_TONES } from '../utils/tones';
import { StatusBadge } from './status-badge';

const SOURCE: Record<string, string> = {
  llm: 'written by AI for this step',
  template: 'from the template writer',
  plan: 'from the plan',
  none: 'no draft',
};

interface Props {
  step: Step;
  last: boolean;
  planPaused: boolean;
  /** Finished with an outcome: the steps are history, with no actions. */
  planFinished: boolean;
  now: Date;
  timeZone: string;
  onAction: (reminderId: number, action: StepAction) => void;
}

export function StepItem({ step, last, planPaused, planFinished, now, timeZone, onAction }: Props) {
  const [open, setOpen] = useState(false);
  const label = statusLabel(step, planPaused, now, timeZone);
  const canAct = !planFinished && isOpen(step) && step.reminder_id !== null;
  const reminderId = step.reminder_id;
  return (
    <li className="relative flex gap-3 pb-4" data-testid="step" data-step-id={step.step_id} data-status={label.tone}>
      {/* the connector to the next step */}
      {!last && <span className="absolute top-8 bottom-0 left-[15px] w-0.5 bg-sep" aria-hidden />}
      <span
        className={`z-10 flex size-8 shrink-0 items-center justify-center rounded-full text-sm font-bold ${DOT_TONES[label.tone]}`}
        aria-hidden
      >
        {label.icon}
      </span>
      <div className="min-w-0 flex-1 rounded-2xl bg-section p-3">
        <button
          type="button"
          className="w-full text-left"
          aria-expanded={open}
          data-testid="step-toggle"
          onClick={() => {
            haptic('tap');
            setOpen(!open);
          }}
        >
          <div className="flex flex-wrap items-center gap-2">
            <StatusBadge label={label} />
            <span className="text-xs text-hint">{step.channel}</span>
          </div>
          <div className="mt-1 font-medium" data-testid="step-title">
            {step.description}
          </div>
          <div className="mt-1 text-xs text-hint" data-testid="step-when">
            {step.timing ?? `day ${step.delay_days}`}
            {step.due_at && (
              <>
                {' · '}
                <time dateTime={step.due_at} data-testid="step-due">
                  {formatDateTime(step.due_at, timeZone)}
                </time>
                {canAct && !planPaused && step.waiting_for_step === null && ` (${relativeDue(step.due_at, now, timeZone)})`}
                {canAct && !planPaused && step.waiting_for_step !== null && ` (waits for an earlier step)`}
              </>
            )}
            {step.completed_at && !isOpen(step) && ` · closed ${formatDateTime(step.completed_at, timeZone)}`}
          </div>
        </button>
        {open && reminderId !== null && <DraftPanel reminderId={reminderId} />}
        {/* A step waiting for an earlier one keeps its buttons folded away until opened. */}
        {canAct && reminderId !== null && (step.waiting_for_step === null || open) && (
          <div className="mt-2 flex flex-wrap gap-2">
            <ActionButton primary onClick={() => onAction(reminderId, { kind: 'complete' })} testId="action-done">
              ✓ Done
            </ActionButton>
            <ActionButton onClick={() => onAction(reminderId, { kind: 'snooze', days: 1 })} testId="action-snooze1">
              Snooze 1d
            </ActionButton>
            <ActionButton onClick={() => onAction(reminderId, { kind: 'snooze', days: 3 })} testId="action-snooze3">
              Snooze 3d
            </ActionButton>
            <ActionButton onClick={() => onAction(reminderId, { kind: 'skip' })} testId="action-skip">
              Skip
            </ActionButton>
          </div>
        )}
      </div>
    </li>
  );
}

function ActionButton({
  children,
  onClick,
  primary = false,
  testId,
}: {
  children: React.ReactNode;
  onClick: () => void;
  primary?: boolean;
  testId: string;
}) {
  return (
    <button
      type="button"
      data-testid={testId}
      onClick={onClick}
      className={`rounded-xl px-3 py-1.5 text-sm font-medium active:opacity-70 ${
        primary ? 'bg-button text-button-fg' : 'bg-bg2 text-link'
      }`}
    >
      {children}
    </button>
  );
}

function DraftPanel({ reminderId }: { reminderId: number }) {
  const draft = useDraft(reminderId, true);
  const toast = useToast();
  if (draft.isPending) return <p className="mt-2 text-sm text-hint">Loading the draft…</p>;
  if (draft.isError) return <p className="mt-2 text-sm text-danger">Could not load the draft.</p>;
  const { text, source } = draft.data;
  if (!text) return <p className="mt-2 text-sm text-hint">No draft for this step.</p>;
  return (
    <div className="mt-2 rounded-xl bg-bg2 p-2" data-testid="draft">
      <div className="mb-1 text-xs text-hint">Draft · {SOURCE[source] ?? source}</div>
      <p className="text-sm whitespace-pre-wrap select-text">{text}</p>
      <button
        type="button"
        data-testid="copy-draft"
        className="mt-2 rounded-lg px-2 py-1 text-sm text-link"
        onClick={() => {
          copyText(text).then(
            () => {
              haptic('success');
              toast.show('Draft copied');
            },
            () => toast.show('Could not copy; long-press the text instead', 'error'),
          );
        }}
      >
        Copy draft
      </button>
    </div>
  );
}
