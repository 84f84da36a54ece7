// The REST API's shapes (CONTRACT.md, app/schemas.py). Only what the Mini App reads.

export type DisplayStatus = 'done' | 'skipped' | 'due' | 'overdue' | 'upcoming' | 'snoozed' | 'paused';

export type Channel = 'linkedin' | 'email' | 'phone' | 'telegram' | 'other';

export const CHANNELS: readonly Channel[] = ['linkedin', 'email', 'phone', 'telegram', 'other'];

export interface Step {
  step_id: number;
  reminder_id: number | null;
  position: number;
  description: string;
  timing: string | null;
  delay_days: number;
  channel: string;
  suggested_text: string | null;
  status: DisplayStatus;
  /** The reminder's stored status: pending, sent, completed, skipped, auto_snoozed, cancelled. */
  state: string;
  overdue_days: number;
  due_at: string | null;
  planned_due_at: string | null;
  completed_at: string | null;
  snooze_count: number;
  reminder_count: number;
  waiting_for_step: number | null;
}

/** Where the lead stands in the sale; the last two close it. */
export type LeadStatus = 'analyzed' | 'reached_out' | 'in_progress' | 'meeting_booked' | 'closed_won' | 'closed_lost';

export const LEAD_STATUSES: readonly LeadStatus[] = [
  'analyzed',
  'reached_out',
  'in_progress',
  'meeting_booked',
  'closed_won',
  'closed_lost',
];

/** How a finished plan ended (POST /plans/{id}/finish). */
export type PlanOutcome = 'replied' | 'meeting_booked' | 'not_interested' | 'closed_won' | 'closed_lost';

export const PLAN_OUTCOMES: readonly PlanOutcome[] = ['replied', 'meeting_booked', 'not_interested', 'closed_won', 'closed_lost'];

/** What POST /plans/{id}/finish and PATCH /leads/{id} take as a reason, at most. */
export const MAX_REASON = 200;

export type PlanStatus = 'none' | 'active' | 'paused' | 'completed';

export interface Lead {
  id: number;
  name: string;
  company: string | null;
  title: string | null;
  channel: string | null;
  context: string | null;
  status: LeadStatus;
  /** Set once the plan was finished with an outcome; a plan whose steps all closed has none. */
  plan_outcome: PlanOutcome | null;
  status_reason: string | null;
  plan_status: PlanStatus;
  plan_started_at: string | null;
  created_at: string;
  next_due_at: string | null;
  next_step_id: number | null;
  overdue_steps: number;
  steps: Step[];
}

export interface Activity {
  id: number;
  step_id: number | null;
  activity_type: string;
  details: Record<string, unknown>;
  created_at: string;
}

export interface LeadDetail extends Lead {
  activity: Activity[];
}

export interface Summary {
  active_plans: number;
  overdue_steps: number;
  leads_with_overdue: number;
  due_today: number;
  total_leads: number;
  by_status: Record<LeadStatus, number>;
}

export interface Plans {
  summary: Summary;
  leads: Lead[];
}

export interface StepChange {
  changed: boolean;
  plan_completed: boolean;
  lead_id: number;
  step: Step;
  moved_steps: number[];
  /** Until when POST /reminders/{id}/undo can take this back; null when it cannot. */
  undo_until: string | null;
}

export interface FinishInput {
  outcome: PlanOutcome;
  reason?: string;
}

export interface FinishResult {
  /** False when the plan had already finished with this outcome. */
  changed: boolean;
  lead: Lead;
}

/** PATCH /leads/{id}: only the fields to change. */
export type LeadPatch = Partial<Pick<Lead, 'name' | 'company' | 'title' | 'channel' | 'context' | 'status'>> & {
  reason?: string | null;
};

export interface Draft {
  text: string | null;
  generated_at: string | null;
  source: 'llm' | 'template' | 'plan' | 'none';
}

export interface Me {
  telegram_id: number;
  first_name: string;
  last_name: string | null;
  username: string | null;
  timezone: string;
  timezone_set: boolean;
  work_start: string;
  work_end: string;
  workdays: number[];
  reminders_paused: boolean;
  paused_until: string | null;
  blocked: boolean;
}

export type MePatch = Partial<
  Pick<Me, 'timezone' | 'work_start' | 'work_end' | 'workdays' | 'reminders_paused' | 'paused_until'>
>;

/** A step as PUT /plans/{id}/steps and POST /leads take it. */
export interface StepInput {
  step_id: number;
  description: string;
  timing?: string | null;
  delay_days?: number | null;
  channel?: string;
  suggested_text?: string | null;
  status?: 'pending' | 'done' | 'skipped';
  completed_at?: string | null;
}

export interface LeadInput {
  name: string;
  company?: string | null;
  title?: string | null;
  context?: string | null;
  plan?: { steps: StepInput[] };
  generate_plan?: boolean;
}
