import { useState, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Page } from '../../../components/page';
import { Section } from '../../../components/section';
import { Spinner } from '../../../components/spinner';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { CHANNELS, LEAD_STATUSES, MAX_REASON, type LeadDetail, type LeadStatus } from '../../../types/api';
import { useUpdateLead } from '../api/plan-edits';
import { usePlan } from '../api/plans';
import { leadPatch, toEditableLead, type EditableLead } from '../utils/lead-form';
import { reasonCounter, STATUS_LABELS } from '../utils/outcomes';

const input = 'mt-1 w-full rounded-lg bg-bg2 px-2 py-1.5 aria-invalid:ring-2 aria-invalid:ring-danger';
/** Statuses that finish an active plan when chosen (PATCH /leads/{id}). */
const CLOSING: readonly LeadStatus[] = ['meeting_booked', 'closed_won', 'closed_lost'];

export function LeadDetailsPage() {
  const leadId = Number(useParams().leadId);
  const plan = usePlan(leadId);
  if (plan.isPending) {
    return (
      <Page title="Edit lead" back>
        <Spinner />
      </Page>
    );
  }
  if (plan.isError) {
    return (
      <Page title="Edit lead" back>
        <p className="p-4 text-danger">{plan.error instanceof ApiError ? plan.error.detail : String(plan.error)}</p>
      </Page>
    );
  }
  return <LeadForm lead={plan.data} />;
}

type Errors = Partial<Record<keyof EditableLead, string>>;
const FIELDS: readonly (keyof EditableLead)[] = ['name', 'company', 'title', 'channel', 'context', 'status', 'reason'];

function LeadForm({ lead }: { lead: LeadDetail }) {
  const [form, setForm] = useState<EditableLead>(() => toEditableLead(lead));
  const [errors, setErrors] = useState<Errors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const update = useUpdateLead(lead.id);
  const navigate = useNavigate();
  const toast = useToast();
  const statusChanged = form.status !== lead.status;

  const set = <K extends keyof EditableLead>(key: K, value: EditableLead[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    // The complaint was about the old value.
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  const save = () => {
    const result = leadPatch(lead, form);
    if ('error' in result) {
      haptic('warning');
      setErrors({ [result.field]: result.error });
      return;
    }
    setErrors({});
    setProblem(null);
    const back = () => void navigate(`/leads/${lead.id}`, { replace: true });
    if (Object.keys(result.patch).length === 0) {
      back();
      return;
    }
    update.mutate(result.patch, {
      onSuccess: () => {
        haptic('success');
        toast.show('Lead saved');
        back();
      },
      onError: (e) => {
        haptic('error');
        if (!(e instanceof ApiError)) {
          setProblem(String(e));
          return;
        }
        // A 422 names its fields: each complaint goes beside its field, the rest below.
        const byField: Errors = {};
        const other: string[] = [];
        for (const [field, message] of Object.entries(e.fields)) {
          if ((FIELDS as readonly string[]).includes(field)) byField[field as keyof EditableLead] = message;
          else other.push(field ? `${field}: ${message}` : message);
        }
        setErrors(byField);
        const placed = Object.keys(byField).length > 0;
        setProblem(other.length ? other.join('; ') : placed ? null : e.detail);
      },
    });
  };

  return (
    <Page title={`Edit ${lead.name}`} back>
      <Section>
        <div className="flex flex-col gap-2">
          <Field label="Name*" name="name" error={errors.name}>
            {(a11y) => <input className={input} value={form.name} {...a11y} onChange={(e) => set('name', e.target.value)} />}
          </Field>
          <Field label="Company" name="company" error={errors.company}>
            {(a11y) => <input className={input} value={form.company} {...a11y} onChange={(e) => set('company', e.target.value)} />}
          </Field>
          <Field label="Title" name="title" error={errors.title}>
            {(a11y) => <input className={input} value={form.title} {...a11y} onChange={(e) => set('title', e.target.value)} />}
          </Field>
          <Field label="Channel" name="channel" error={errors.channel}>
            {(a11y) => (
              <select className={input} value={form.channel} {...a11y} onChange={(e) => set('channel', e.target.value)}>
                <option value="">—</option>
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Context (what you know; the plan and drafts use it)" name="context" error={errors.context}>
            {(a11y) => <textarea className={input} rows={4} value={form.context} {...a11y} onChange={(e) => set('context', e.target.value)} />}
          </Field>
        </div>
      </Section>
      <Section title="Status">
        <div className="flex flex-col gap-2">
          <Field label="Where this lead stands" name="status" error={errors.status}>
            {(a11y) => (
              <select className={input} value={form.status} {...a11y} onChange={(e) => set('status', e.target.value as LeadStatus)}>
                {LEAD_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {STATUS_LABELS[s]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {statusChanged && CLOSING.includes(form.status) && lead.plan_status === 'active' && (
            <p className="text-sm text-hint" data-testid="closing-hint">
              This finishes the active plan: its open steps send no more reminders.
            </p>
          )}
          {statusChanged && (
            <Field label="Why (optional)" name="reason" error={errors.reason} hint={reasonCounter(form.reason)}>
              {(a11y) => (
                <input className={input} maxLength={MAX_REASON} value={form.reason} {...a11y} onChange={(e) => set('reason', e.target.value)} />
              )}
            </Field>
          )}
        </div>
      </Section>
      {problem && (
        <p role="alert" data-testid="form-error" className="px-3 text-sm text-danger">
          {problem}
        </p>
      )}
      <button
        type="button"
        data-testid="save-lead"
        disabled={update.isPending}
        onClick={save}
        className="mt-3 w-full rounded-xl bg-button py-2.5 font-medium text-button-fg disabled:opacity-50"
      >
        {update.isPending ? 'Saving…' : 'Save'}
      </button>
    </Page>
  );
}

interface A11y {
  id: string;
  'data-testid': string;
  'aria-invalid': boolean;
  'aria-describedby'?: string;
}

/** A labelled field with the server's (or the form's) complaint right under it. */
function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: keyof EditableLead;
  error: string | undefined;
  hint?: string;
  children: (a11y: A11y) => ReactNode;
}) {
  const id = `lead-${name}`;
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ');
  return (
    <div className="text-sm">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'data-testid': `field-${name}`, 'aria-invalid': Boolean(error), 'aria-describedby': described || undefined })}
      <div className="flex gap-2">
        {error && (
          <p id={`${id}-error`} role="alert" data-testid={`error-${name}`} className="flex-1 text-sm text-danger">
            {error}
          </p>
        )}
        {hint && (
          <p id={`${id}-hint`} className="ml-auto text-xs text-hint" data-testid={`hint-${name}`}>
            {hint}
          </p>
        )}
      </div>
    </div>
  );
}
