import { haptic } from '../../../lib/telegram';
import { blankStep, move, type EditableStep } from '../utils/plan-draft';
import { StepFields } from './step-fields';

export function StepsEditor({ steps, onChange }: { steps: EditableStep[]; onChange: (steps: EditableStep[]) => void }) {
  const small = 'rounded-lg bg-bg2 px-2 py-1 text-sm text-link disabled:opacity-40';
  return (
    <div className="flex flex-col gap-2">
      <ol className="flex flex-col gap-2">
        {steps.map((step, index) => (
          <li key={step.step_id} className="rounded-2xl bg-section p-3" data-testid="edit-step">
            <div className="mb-1.5 flex items-center gap-1">
              <span className="flex-1 text-xs font-semibold text-hint">
                Step {index + 1}
                {step.locked && ' · closed, kept as history'}
              </span>
              <button type="button" className={small} aria-label="Move up" disabled={index === 0} onClick={() => { haptic('tap'); onChange(move(steps, index, index - 1)); }}>
                ↑
              </button>
              <button type="button" className={small} aria-label="Move down" disabled={index === steps.length - 1} onClick={() => { haptic('tap'); onChange(move(steps, index, index + 1)); }}>
                ↓
              </button>
              <button
                type="button"
                className="rounded-lg bg-bg2 px-2 py-1 text-sm text-danger"
                aria-label={`Remove step ${index + 1}`}
                onClick={() => {
                  haptic('tap');
                  onChange(steps.filter((s) => s.step_id !== step.step_id));
                }}
              >
                ✕
              </button>
            </div>
            <StepFields step={step} index={index} onChange={(next) => onChange(steps.map((s) => (s.step_id === step.step_id ? next : s)))} />
          </li>
        ))}
      </ol>
      <button type="button" data-testid="add-step" className="rounded-xl bg-section py-2 text-sm text-link" onClick={() => onChange([...steps, blankStep(steps)])}>
        + Add a step
      </button>
    </div>
  );
}
