import type { StatusLabel } from '../utils/step-status';
import { TONES } from '../utils/tones';

export function StatusBadge({ label }: { label: StatusLabel }) {
  return (
    <span
      data-testid="status-badge"
      data-tone={label.tone}
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[label.tone]}`}
    >
      <span aria-hidden>{label.icon}</span>
      {label.text}
    </span>
  );
}
