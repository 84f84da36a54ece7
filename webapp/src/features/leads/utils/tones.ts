// Badge and timeline-dot colours per tone; the words always say the same thing.
import type { StatusLabel } from './step-status';

export const TONES: Record<StatusLabel['tone'], string> = {
  green: 'bg-green-100 text-green-800 ring-green-600/30 dark:bg-green-900/50 dark:text-green-200',
  blue: 'bg-blue-100 text-blue-800 ring-blue-600/30 dark:bg-blue-900/50 dark:text-blue-200',
  yellow: 'bg-yellow-100 text-yellow-900 ring-yellow-600/30 dark:bg-yellow-900/40 dark:text-yellow-100',
  red: 'bg-red-100 text-red-800 ring-red-600/30 dark:bg-red-900/50 dark:text-red-200',
  gray: 'bg-gray-100 text-gray-700 ring-gray-500/30 dark:bg-gray-800 dark:text-gray-300',
  purple: 'bg-purple-100 text-purple-800 ring-purple-600/30 dark:bg-purple-900/50 dark:text-purple-200',
  slate: 'bg-slate-200 text-slate-800 ring-slate-500/30 dark:bg-slate-700 dark:text-slate-100',
};

export const DOT_TONES: Record<StatusLabel['tone'], string> = {
  green: 'bg-green-600 text-white',
  blue: 'bg-blue-600 text-white',
  yellow: 'bg-yellow-400 text-yellow-950',
  red: 'bg-red-600 text-white',
  gray: 'bg-gray-400 text-white dark:bg-gray-600',
  purple: 'bg-purple-600 text-white',
  slate: 'bg-slate-500 text-white',
};
