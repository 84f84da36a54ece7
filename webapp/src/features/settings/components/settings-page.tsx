import { useState } from 'react';
import { Page } from '../../../components/page';
import { Section } from '../../../components/section';
import { Spinner } from '../../../components/spinner';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { deviceTimeZone, formatDate, isValidTimeZone, localDate, startOfLocalDate } from '../../../lib/time';
import type { Me, MePatch } from '../../../types/api';
import { useNow } from '../../../lib/use-now';
import { useMe, useUpdateMe } from '../../../lib/me';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const field = 'w-full rounded-lg bg-bg2 px-2 py-1.5';

function zones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

export function SettingsPage() {
  const me = useMe();
  return (
    <Page title="Settings" back>
      {me.isPending ? <Spinner /> : me.isError ? <p className="p-4 text-danger">Cannot load your settings.</p> : <SettingsForm me={me.data} />}
    </Page>
  );
}

function SettingsForm({ me }: { me: Me }) {
  const update = useUpdateMe();
  const toast = useToast();
  const [timezone, setTimezone] = useState(me.timezone);
  const [workStart, setWorkStart] = useState(me.work_start);
  const [workEnd, setWorkEnd] = useState(me.work_end);
  const [workdays, setWorkdays] = useState<number[]>(me.workdays);
  const [pauseDate, setPauseDate] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const now = useNow();

  const send = (patch: MePatch, done: string) => {
    setProblem(null);
    update.mutate(patch, {
      onSuccess: () => {
        haptic('success');
        toast.show(done);
      },
      onError: (e) => {
        haptic('error');
        setProblem(e instanceof ApiError ? e.detail : String(e));
      },
    });
  };

  const pausedUntil = me.paused_until && Date.parse(me.paused_until) > now.getTime() ? me.paused_until : null;
  const tomorrow = localDate(new Date(now.getTime() + 86_400_000), me.timezone);

  return (
    <>
      <Section title="Time zone">
        <input
          className={field}
          list="zones"
          value={timezone}
          aria-label="Time zone"
          data-testid="timezone"
          onChange={(e) => setTimezone(e.target.value)}
        />
        <datalist id="zones">
          {zones().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <button type="button" className="mt-1 text-sm text-link" onClick={() => setTimezone(deviceTimeZone())}>
          Use this device’s ({deviceTimeZone()})
        </button>
      </Section>

      <Section title="Working hours">
        <div className="grid grid-cols-2 gap-2">
          <label className="text-sm">
            From
            <input type="time" className={field} value={workStart} data-testid="work-start" onChange={(e) => setWorkStart(e.target.value)} />
          </label>
          <label className="text-sm">
            To
            <input type="time" className={field} value={workEnd} data-testid="work-end" onChange={(e) => setWorkEnd(e.target.value)} />
          </label>
        </div>
        <div role="group" aria-label="Workdays" className="mt-2 flex flex-wrap gap-1">
          {DAYS.map((day, index) => {
            const iso = index + 1;
            const on = workdays.includes(iso);
            return (
              <button
                key={day}
                type="button"
                aria-pressed={on}
                onClick={() => setWorkdays(on ? workdays.filter((d) => d !== iso) : [...workdays, iso].sort())}
                className={`rounded-full px-3 py-1 text-sm ${on ? 'bg-button text-button-fg' : 'bg-bg2 text-fg'}`}
              >
                {day}
              </button>
            );
          })}
        </div>
      </Section>

      <button
        type="button"
        data-testid="save-settings"
        disabled={update.isPending}
        className="mb-4 w-full rounded-xl bg-button py-2.5 font-medium text-button-fg disabled:opacity-50"
        onClick={() => {
          if (!isValidTimeZone(timezone)) {
            setProblem(`“${timezone}” is not a time zone name (e.g. Europe/Berlin).`);
            return;
          }
          if (workdays.length === 0) {
            setProblem('Pick at least one workday.');
            return;
          }
          send({ timezone, work_start: workStart, work_end: workEnd, workdays }, 'Settings saved');
        }}
      >
        Save
      </button>

      <Section title="Pause reminders">
        <div className="flex flex-col gap-2 text-sm">
          <p data-testid="pause-state">
            {me.reminders_paused
              ? 'All reminders are paused.'
              : pausedUntil
                ? `Paused until ${formatDate(pausedUntil, me.timezone)}.`
                : 'Reminders are on.'}
          </p>
          <button
            type="button"
            data-testid="pause-all"
            className="rounded-xl bg-bg2 py-2 text-link"
            onClick={() =>
              send(
                me.reminders_paused || pausedUntil ? { reminders_paused: false, paused_until: null } : { reminders_paused: true },
                me.reminders_paused || pausedUntil ? 'Reminders resumed' : 'Reminders paused',
              )
            }
          >
            {me.reminders_paused || pausedUntil ? '▶ Resume reminders' : '‖ Pause all reminders'}
          </button>
          <div className="flex items-end gap-2">
            <label className="flex-1">
              Pause until
              <input type="date" className={field} min={tomorrow} value={pauseDate} onChange={(e) => setPauseDate(e.target.value)} />
            </label>
            <button
              type="button"
              disabled={!pauseDate}
              className="rounded-xl bg-bg2 px-3 py-2 text-link disabled:opacity-40"
              onClick={() => send({ paused_until: startOfLocalDate(pauseDate, me.timezone) }, `Paused until ${pauseDate}`)}
            >
              Pause
            </button>
          </div>
        </div>
      </Section>
      {problem && (
        <p role="alert" className="px-3 text-sm text-danger">
          {problem}
        </p>
      )}
    </>
  );
}
