import { CHANNELS } from '../../../types/api';
import type { EditableStep } from '../utils/plan-draft';

const input = 'w-full rounded-lg bg-bg2 px-2 py-1.5 text-sm';

/** The fields of one step, shared by the plan editor and the new-lead form. */
export function StepFields({
  step,
  index,
  onChange,
}: {
  step: EditableStep;
  index: number;
  onChange: (step: EditableStep) => void;
}) {
  return (
    <div className="flex flex-col gap-1.5">
      <input
        className={input}
        value={step.description}
        disabled={step.locked}
        aria-label={`Step ${index + 1} description`}
        data-testid="step-description"
        placeholder="What to do, e.g. Send a follow-up email"
        onChange={(e) => onChange({ ...step, description: e.target.value })}
      />
      <div className="grid grid-cols-3 gap-1.5">
        <label className="text-xs text-hint">
          Day
          <input
            className={input}
            inputMode="numeric"
            value={step.delay_days}
            disabled={step.locked}
            aria-label={`Step ${index + 1} delay in days`}
            data-testid="step-delay"
            onChange={(e) => onChange({ ...step, delay_days: e.target.value })}
          />
        </label>
        <label className="text-xs text-hint">
          Timing text
          <input
            className={input}
            value={step.timing}
            disabled={step.locked}
            placeholder="after 3 days"
            onChange={(e) => onChange({ ...step, timing: e.target.value })}
          />
        </label>
        <label className="text-xs text-hint">
          Channel
          <select
            className={input}
            value={step.channel}
            disabled={step.locked}
            onChange={(e) => onChange({ ...step, channel: e.target.value })}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </div>
    </div>
  );
}
