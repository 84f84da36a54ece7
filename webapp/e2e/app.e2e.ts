// The Mini App in real headless Chromium against the real backend (uvicorn, SQLite), each
// scenario as its own Telegram user so none sees another's changes.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, REPO, type Backend } from './support/backend';
import { DARK_THEME, LIGHT_THEME, launchBrowser, launchHash, openPage, type Expected, type Watched } from './support/browser';
import { recordBench } from './support/bench';
import { signInitData } from './support/initdata';

// docs/screenshots only when asked (`make bench-webapp`): a test run leaves tracked files alone.
const SCREENSHOTS = process.env.E2E_RECORD_BENCH === '1' ? join(REPO, 'docs', 'screenshots') : join(tmpdir(), 'eplan-e2e-screenshots');
const USERS = {
  reader: 1001,
  done: 1002,
  snooze: 1003,
  refused: 1004,
  newLead: 1005,
  dark: 1006,
  editor: 1007,
  settings: 1008,
  outcome: 1009,
  leadEdit: 1010,
  undo: 1011,
};

let backend: Backend;
let browser: Browser;
let watched: Watched | null = null;
// Over the whole run, for the benchmark record: scenarios run and unexpected problems seen.
let scenarios = 0;
let unexpected = 0;

beforeAll(async () => {
  [backend, browser] = await Promise.all([startBackend(Object.values(USERS)), launchBrowser()]);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await backend?.stop();
});

afterEach(async () => {
  // Every scenario: nothing unexpected in the console, no failed request.
  const problems = watched?.problems ?? [];
  scenarios += 1;
  unexpected += problems.length;
  await watched?.close();
  watched = null;
  expect(problems).toEqual([]);
});

async function open(telegramId: number, options: { theme?: Record<string, string>; expected?: Expected[]; route?: string } = {}) {
  watched = await openPage(browser, options.expected);
  const hash = launchHash(signInitData(telegramId), options.theme);
  await watched.page.goto(`${backend.url}/app/${hash}`);
  if (options.route) await watched.page.evaluate((r) => (window.location.hash = r), options.route);
  return watched.page;
}

async function apiAs<T>(telegramId: number, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${backend.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { Authorization: `tma ${signInitData(telegramId)}`, 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as T };
}

interface ApiStep { step_id: number; reminder_id: number; state: string; status: string; due_at: string; description: string; delay_days: number }
interface ApiLead {
  id: number;
  name: string;
  company: string | null;
  title: string | null;
  channel: string | null;
  context: string | null;
  status: string;
  plan_status: string;
  plan_outcome: string | null;
  status_reason: string | null;
  steps: ApiStep[];
}

function leadId(telegramId: number, name: string): number {
  const lead = backend.users.get(telegramId)?.leads.find((l) => l.name === name);
  if (!lead) throw new Error(`no seeded lead ${name}`);
  return lead.id;
}

async function cardNames(page: import('playwright-core').Page): Promise<string[]> {
  return page.locator('[data-testid=lead-card] [data-testid=lead-name]').allTextContents();
}

describe('dashboard', () => {
  it('shows the right counts, the overdue banner and each lead’s next step', async () => {
    const page = await open(USERS.reader);
    await page.locator('[data-testid=lead-card]').first().waitFor();
    const { body } = await apiAs<{ summary: Record<string, number> }>(USERS.reader, '/plans');
    expect(body.summary).toMatchObject({ active_plans: 4, overdue_steps: 2, leads_with_overdue: 2, due_today: 1 });
    expect(await page.getByTestId('overdue-banner').textContent()).toContain('2 steps overdue across 2 leads');
    expect(await page.getByTestId('count-active').textContent()).toBe('4');
    expect(await page.getByTestId('count-due-today').textContent()).toBe('1');
    expect(await cardNames(page)).toEqual(['Chen Wei', 'Bruno Costa', 'Eve Park', 'Ana Lima', 'Femi Ade', 'Dana Ortiz']);
    const card = (name: string) => page.locator('[data-testid=lead-card]', { hasText: name });
    expect(await card('Chen Wei').getByTestId('next-due').textContent()).toBe('overdue by 5 days');
    expect(await card('Bruno Costa').getByTestId('next-due').textContent()).toBe('overdue by 3 days');
    expect(await card('Ana Lima').getByTestId('next-due').textContent()).toBe('due today');
    expect(await card('Femi Ade').getByTestId('next-due').textContent()).toMatch(/^(in 2 days|tomorrow)$/);
    expect(await card('Eve Park').textContent()).toContain('Paused');
    expect(await card('Dana Ortiz').textContent()).toContain('No plan yet');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-light.png'), fullPage: true });
  });

  it('filters by active plan, overdue and no plan, and sorts', async () => {
    const page = await open(USERS.reader);
    await page.locator('[data-testid=lead-card]').first().waitFor();
    await page.getByTestId('filter-overdue').click();
    expect(await cardNames(page)).toEqual(['Chen Wei', 'Bruno Costa']);
    await page.getByTestId('filter-no_plan').click();
    expect(await cardNames(page)).toEqual(['Dana Ortiz']);
    await page.getByTestId('filter-active').click();
    expect(await cardNames(page)).toEqual(['Chen Wei', 'Bruno Costa', 'Ana Lima', 'Femi Ade']);
    await page.getByTestId('sort').selectOption('name');
    expect(await cardNames(page)).toEqual(['Ana Lima', 'Bruno Costa', 'Chen Wei', 'Femi Ade']);
    await page.getByTestId('filter-all').click();
    expect(await cardNames(page)).toEqual(['Ana Lima', 'Bruno Costa', 'Chen Wei', 'Dana Ortiz', 'Eve Park', 'Femi Ade']);
    const events = await watched!.telegramEvents();
    expect(events.some((e) => e.type === 'web_app_trigger_haptic_feedback')).toBe(true);
  });
});

describe('lead page', () => {
  it('marks a step done, which GET /plans then shows', async () => {
    const page = await open(USERS.done);
    await page.locator('[data-testid=lead-card]', { hasText: 'Ana Lima' }).click();
    const first = page.locator('[data-testid=step]').first();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('●Due now');
    // Inner page: Telegram's BackButton is shown.
    const events = await watched!.telegramEvents();
    expect(events).toContainEqual({ type: 'web_app_setup_back_button', data: { is_visible: true } });
    // Expand the step: its draft, with where it came from.
    await first.getByTestId('step-toggle').click();
    await expect.poll(() => first.getByTestId('draft').textContent()).toContain('Hi Ana, draft number 1.');
    expect(await first.getByTestId('draft').textContent()).toContain('from the plan');
    await page.screenshot({ path: join(SCREENSHOTS, 'lead-light.png'), fullPage: true });
    await first.getByTestId('copy-draft').click();
    await page.getByTestId('toast').filter({ hasText: 'Draft copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('Hi Ana, draft number 1.');

    await first.getByTestId('action-done').click();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('✓Done');
    await page.getByTestId('toast').filter({ hasText: 'Marked done' }).waitFor();
    await expect.poll(async () => {
      const { body } = await apiAs<{ leads: ApiLead[] }>(USERS.done, '/plans');
      return body.leads.find((l) => l.name === 'Ana Lima')?.steps[0]?.state;
    }).toBe('completed');
    const types = (await watched!.telegramEvents()).map((e) => e.type);
    expect(types).toContain('web_app_trigger_haptic_feedback');
  });

  it('snoozes a step, which moves its date', async () => {
    const id = leadId(USERS.snooze, 'Bruno Costa');
    const page = await open(USERS.snooze, { route: `/leads/${id}` });
    const first = page.locator('[data-testid=step]').first();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('!Overdue 3 days');
    const before = await apiAs<{ steps: ApiStep[] }>(USERS.snooze, `/plans/${id}`);
    await first.getByTestId('action-snooze1').click();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toMatch(/^zSnoozed until /);
    const was = before.body.steps[0]!;
    let now = was;
    await expect
      .poll(async () => {
        now = (await apiAs<{ steps: ApiStep[] }>(USERS.snooze, `/plans/${id}`)).body.steps[0]!;
        return now.due_at;
      })
      .not.toBe(was.due_at);
    expect(Date.parse(now.due_at) - Date.parse(was.due_at)).toBeGreaterThan(3 * 86_400_000);
    expect(Date.parse(now.due_at)).toBeGreaterThan(Date.now());
    // The page shows the server's new date, in the user's time zone (UTC here).
    const shown = await first.getByTestId('step-due').getAttribute('datetime');
    await expect.poll(() => first.getByTestId('step-due').getAttribute('datetime')).toBe(now.due_at);
    expect(shown).not.toBe(was.due_at);
  });

  it('rolls back and says why when the server refuses an action', async () => {
    const id = leadId(USERS.refused, 'Chen Wei');
    const page = await open(USERS.refused, {
      route: `/leads/${id}`,
      expected: [{ url: /\/reminders\/\d+\/complete$/, status: 409 }],
    });
    const first = page.locator('[data-testid=step]').first();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('!Overdue 5 days');
    // Meanwhile the step is skipped elsewhere (the bot's button, another device).
    const plan = await apiAs<{ steps: ApiStep[] }>(USERS.refused, `/plans/${id}`);
    const skipped = await apiAs(USERS.refused, `/reminders/${plan.body.steps[0]!.reminder_id}/skip`, { method: 'POST' });
    expect(skipped.status).toBe(200);

    await first.getByTestId('action-done').click();
    const error = page.getByTestId('toast-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('already closed');
    expect(await error.textContent()).toContain('Change undone');
    // Not "Done": the server's truth, skipped.
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('⤼Skipped');
    const { body } = await apiAs<{ steps: ApiStep[] }>(USERS.refused, `/plans/${id}`);
    expect(body.steps[0]!.state).toBe('skipped');
    const types = (await watched!.telegramEvents()).filter((e) => e.type === 'web_app_trigger_haptic_feedback');
    expect(types.some((e) => (e.data as { notification_type?: string }).notification_type === 'error')).toBe(true);
  });
});

describe('plan changes', () => {
  it('edits the plan: reorder, change a delay, add a step', async () => {
    const id = leadId(USERS.editor, 'Femi Ade');
    const page = await open(USERS.editor, { route: `/leads/${id}` });
    await page.getByTestId('timeline').waitFor();
    await page.getByTestId('edit-plan').click();
    const steps = page.getByTestId('edit-step');
    await steps.first().waitFor();
    await steps.nth(1).getByRole('button', { name: 'Move up' }).click();
    await steps.first().getByTestId('step-delay').fill('1');
    await page.getByTestId('add-step').click();
    await steps.nth(2).getByTestId('step-description').fill('Call to book a demo');
    await steps.nth(2).getByTestId('step-delay').fill('9');
    await page.getByTestId('save-plan').click();
    await page.getByTestId('timeline').waitFor();
    await expect.poll(() => page.getByTestId('step-title').allTextContents()).toEqual([
      'Step 2 for Femi',
      'Step 1 for Femi',
      'Call to book a demo',
    ]);
    const { body } = await apiAs<{ steps: ApiStep[] }>(USERS.editor, `/plans/${id}`);
    expect(body.steps.map((s) => [s.description, s.delay_days])).toEqual([
      ['Step 2 for Femi', 1],
      ['Step 1 for Femi', 2],
      ['Call to book a demo', 9],
    ]);
  });

  it('pauses and resumes a plan', async () => {
    const id = leadId(USERS.editor, 'Ana Lima');
    const page = await open(USERS.editor, { route: `/leads/${id}` });
    await page.getByTestId('pause-plan').click();
    await expect.poll(() => page.getByTestId('plan-status').textContent()).toContain('paused');
    expect(await page.locator('[data-testid=status-badge]').allTextContents()).toEqual(['‖Paused', '‖Paused', '‖Paused']);
    expect((await apiAs<{ plan_status: string }>(USERS.editor, `/plans/${id}`)).body.plan_status).toBe('paused');
    await page.getByTestId('resume-plan').click();
    await expect.poll(() => page.getByTestId('plan-status').textContent()).toContain('active');
    expect((await apiAs<{ plan_status: string }>(USERS.editor, `/plans/${id}`)).body.plan_status).toBe('active');
  });

  it('adds a note to the lead', async () => {
    const id = leadId(USERS.editor, 'Chen Wei');
    // POST /leads/{id}/notes comes with another piece of work; until it lands the app
    // must say it cannot save notes rather than fail silently.
    const probe = await apiAs(USERS.editor, `/leads/${id}/notes`, { method: 'POST', body: { text: 'probe' } });
    const missing = probe.status === 404 && (probe.body as { detail?: string } | null)?.detail === 'Not Found';
    const page = await open(USERS.editor, {
      route: `/leads/${id}`,
      expected: missing ? [{ url: /\/leads\/\d+\/notes$/, status: 404 }] : [],
    });
    await page.getByTestId('timeline').waitFor();
    await page.getByLabel('Note').fill('Met at the expo; wants pricing for 40 seats');
    await page.getByRole('button', { name: 'Add note' }).click();
    if (missing) {
      expect(await page.getByTestId('toast-error').textContent()).toContain('cannot take notes yet');
    } else {
      await expect.poll(() => page.getByTestId('activity').textContent()).toContain('wants pricing for 40 seats');
    }
  });
});

describe('undo', () => {
  it('undoes a Done from its toast, which restores the step', async () => {
    const id = leadId(USERS.undo, 'Ana Lima');
    const page = await open(USERS.undo, { route: `/leads/${id}` });
    const first = page.locator('[data-testid=step]').first();
    const badge = () => first.getByTestId('status-badge').textContent();
    await expect.poll(badge).toBe('●Due now');
    const before = (await apiAs<ApiLead>(USERS.undo, `/plans/${id}`)).body.steps[0]!;

    await first.getByTestId('action-done').click();
    await expect.poll(badge).toBe('✓Done');
    const toast = page.getByTestId('toast').filter({ hasText: 'Marked done' });
    await toast.waitFor();
    expect(await toast.getByTestId('toast-action').textContent()).toBe('Undo');
    await page.screenshot({ path: join(SCREENSHOTS, 'undo-toast-light.png') });
    await toast.getByTestId('toast-action').click();
    await page.getByTestId('toast').filter({ hasText: 'Undone' }).waitFor();
    await expect.poll(badge).toBe('●Due now');
    const after = (await apiAs<ApiLead>(USERS.undo, `/plans/${id}`)).body.steps[0]!;
    expect([after.state, after.due_at]).toEqual([before.state, before.due_at]);
    await expect.poll(() => page.getByTestId('activity').textContent()).toContain('Undone: step done');
  });

  it('says why when the server refuses an undo', async () => {
    const id = leadId(USERS.undo, 'Bruno Costa');
    const page = await open(USERS.undo, {
      route: `/leads/${id}`,
      expected: [{ url: /\/reminders\/\d+\/undo$/, status: 409 }],
    });
    const first = page.locator('[data-testid=step]').first();
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('!Overdue 3 days');
    await first.getByTestId('action-skip').click();
    const toast = page.getByTestId('toast').filter({ hasText: 'Skipped' });
    await toast.waitFor();
    // Meanwhile it is undone elsewhere (the bot, another device): nothing is left to undo.
    const reminder = (await apiAs<ApiLead>(USERS.undo, `/plans/${id}`)).body.steps[0]!.reminder_id;
    expect((await apiAs(USERS.undo, `/reminders/${reminder}/undo`, { method: 'POST' })).status).toBe(200);
    await toast.getByTestId('toast-action').click();
    const error = page.getByTestId('toast-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^Could not undo: \S/);
    await expect.poll(() => first.getByTestId('status-badge').textContent()).toBe('!Overdue 3 days');
  });
});

describe('outcome and lead details', () => {
  it('finishes a plan with an outcome and a reason, which the page and the dashboard show', async () => {
    const id = leadId(USERS.outcome, 'Bruno Costa');
    const page = await open(USERS.outcome, { route: `/leads/${id}` });
    await page.getByTestId('timeline').waitFor();
    expect(await page.locator('[data-testid=action-done]').count()).toBeGreaterThan(0);
    await page.getByTestId('record-outcome').click();
    const sheet = page.getByTestId('outcome-sheet');
    await sheet.waitFor();
    expect(await sheet.getByRole('radio').allTextContents()).toEqual([
      '○Replied',
      '○Meeting booked',
      '○Not interested',
      '○Won',
      '○Lost',
    ]);
    expect(await sheet.getByTestId('finish-plan').isDisabled()).toBe(true);
    await sheet.getByTestId('outcome-closed_won').click();
    expect(await sheet.getByTestId('outcome-closed_won').getAttribute('aria-checked')).toBe('true');
    await sheet.getByTestId('outcome-reason').fill('Signed for 40 seats');
    expect(await sheet.getByTestId('outcome-reason-count').textContent()).toBe('19/200');
    // Light theme: the sheet is a section on the page's colours.
    expect(await sheet.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color])).toEqual([
      'rgb(255, 255, 255)',
      'rgb(0, 0, 0)',
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'outcome-light.png') });
    await sheet.getByTestId('finish-plan').click();
    await sheet.waitFor({ state: 'detached' });
    await page.getByTestId('toast').filter({ hasText: 'Plan finished: Won' }).waitFor();

    await expect.poll(() => page.getByTestId('plan-outcome').textContent()).toContain('Outcome: Won');
    expect(await page.getByTestId('lead-status').textContent()).toBe('Status: Won');
    expect(await page.getByTestId('plan-status').textContent()).toBe('Plan: finished');
    // A finished plan takes no more step actions, nor a second outcome.
    expect(await page.locator('[data-testid=action-done]').count()).toBe(0);
    expect(await page.getByTestId('record-outcome').count()).toBe(0);
    await expect.poll(() => page.getByTestId('activity').textContent()).toContain('Plan finished: Won');
    expect(await page.getByTestId('activity').textContent()).toContain('Signed for 40 seats');
    await page.screenshot({ path: join(SCREENSHOTS, 'lead-finished-light.png'), fullPage: true });
    const { body } = await apiAs<ApiLead>(USERS.outcome, `/plans/${id}`);
    expect(body).toMatchObject({ plan_outcome: 'closed_won', status: 'closed_won', plan_status: 'completed' });

    await page.evaluate(() => (window.location.hash = '/'));
    const card = page.locator('[data-testid=lead-card]', { hasText: 'Bruno Costa' });
    await expect.poll(() => card.getByTestId('lead-outcome').textContent()).toContain('Outcome: Won');
    expect(await card.getByTestId('lead-status').textContent()).toBe('Won');
    expect(await page.getByTestId('by-status').textContent()).toContain('Won 1');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-outcome-light.png'), fullPage: true });
    await page.getByTestId('filter-closed').click();
    expect(await cardNames(page)).toEqual(['Bruno Costa']);
    await page.getByTestId('filter-open').click();
    expect(await cardNames(page)).toEqual(['Chen Wei', 'Eve Park', 'Ana Lima', 'Femi Ade', 'Dana Ortiz']);
  });

  it('shows why the server refuses an outcome', async () => {
    const id = leadId(USERS.outcome, 'Chen Wei');
    const page = await open(USERS.outcome, {
      route: `/leads/${id}`,
      expected: [{ url: /\/plans\/\d+\/finish$/, status: 409 }],
    });
    await page.getByTestId('record-outcome').click();
    const sheet = page.getByTestId('outcome-sheet');
    await sheet.getByTestId('outcome-replied').click();
    // Meanwhile the plan is finished elsewhere with another outcome.
    expect((await apiAs(USERS.outcome, `/plans/${id}/finish`, { method: 'POST', body: { outcome: 'closed_lost' } })).status).toBe(200);
    await sheet.getByTestId('finish-plan').click();
    const error = sheet.getByTestId('outcome-error');
    await error.waitFor();
    expect((await error.textContent())?.length).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('plan-outcome').textContent()).toContain('Outcome: Lost');
  });

  it('edits the lead, with the server’s 422 shown at its field', async () => {
    const id = leadId(USERS.leadEdit, 'Ana Lima');
    const page = await open(USERS.leadEdit, {
      route: `/leads/${id}`,
      expected: [{ url: new RegExp(`/leads/${id}$`), status: 422 }],
    });
    await page.getByTestId('edit-lead').click();
    const field = (name: string) => page.getByTestId(`field-${name}`);
    await field('name').waitFor();
    expect(await field('name').inputValue()).toBe('Ana Lima');
    expect(await field('company').inputValue()).toBe('Acme Logistics');

    await field('company').fill('x'.repeat(201));
    await field('title').fill('COO');
    await page.getByTestId('save-lead').click();
    const error = page.getByTestId('error-company');
    await error.waitFor();
    expect(await error.textContent()).toContain('200');
    expect(await field('company').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('error-title').count()).toBe(0);
    expect((await apiAs<ApiLead>(USERS.leadEdit, `/plans/${id}`)).body.title).toBe('Head of Operations');

    await field('company').fill('Acme Freight');
    expect(await page.getByTestId('error-company').count()).toBe(0);
    await field('channel').selectOption('email');
    await field('context').fill('Met at the expo; wants 40 seats');
    await field('status').selectOption('in_progress');
    await field('reason').fill('Asked for pricing');
    expect(await page.getByTestId('hint-reason').textContent()).toBe('17/200');
    await page.getByTestId('save-lead').click();
    await page.getByTestId('timeline').waitFor();
    await page.getByTestId('toast').filter({ hasText: 'Lead saved' }).waitFor();
    expect(await page.getByTestId('lead-status').textContent()).toBe('Status: In progress');
    expect(await page.getByTestId('lead-channel').textContent()).toBe('Channel: email');
    await expect.poll(() => page.getByTestId('activity').textContent()).toContain('→ In progress');
    expect(await page.getByTestId('activity').textContent()).toContain('Asked for pricing');
    const { body } = await apiAs<ApiLead>(USERS.leadEdit, `/plans/${id}`);
    expect(body).toMatchObject({
      company: 'Acme Freight',
      title: 'COO',
      channel: 'email',
      context: 'Met at the expo; wants 40 seats',
      status: 'in_progress',
      plan_status: 'active',
    });
  });

  it('a closing status set in the editor finishes the active plan', async () => {
    const id = leadId(USERS.leadEdit, 'Femi Ade');
    const page = await open(USERS.leadEdit, { route: `/leads/${id}/details` });
    await page.getByTestId('field-status').selectOption('closed_lost');
    expect(await page.getByTestId('closing-hint').textContent()).toContain('finishes the active plan');
    await page.getByTestId('field-reason').fill('Went with a competitor');
    await page.getByTestId('save-lead').click();
    await page.getByTestId('timeline').waitFor();
    await expect.poll(() => page.getByTestId('plan-status').textContent()).toBe('Plan: finished');
    expect(await page.getByTestId('lead-status').textContent()).toBe('Status: Lost');
    expect(await page.locator('[data-testid=action-done]').count()).toBe(0);
    const { body } = await apiAs<ApiLead>(USERS.leadEdit, `/plans/${id}`);
    expect(body).toMatchObject({ status: 'closed_lost', plan_status: 'completed' });
  });
});

describe('settings', () => {
  it('saves working hours and workdays, and pauses every reminder', async () => {
    const page = await open(USERS.settings, { route: '/settings' });
    await page.getByTestId('timezone').waitFor();
    expect(await page.getByTestId('timezone').inputValue()).toBe('UTC');
    await page.getByTestId('work-start').fill('08:30');
    await page.getByTestId('work-end').fill('17:00');
    await page.getByRole('button', { name: 'Sat' }).click();
    await page.getByRole('button', { name: 'Sun' }).click();
    await page.getByTestId('timezone').fill('Europe/Berlin');
    await page.getByTestId('save-settings').click();
    await page.getByTestId('toast').filter({ hasText: 'Settings saved' }).waitFor();
    const me = await apiAs<Record<string, unknown>>(USERS.settings, '/me');
    expect(me.body).toMatchObject({ timezone: 'Europe/Berlin', work_start: '08:30', work_end: '17:00', workdays: [1, 2, 3, 4, 5] });

    await page.getByTestId('pause-all').click();
    await expect.poll(() => page.getByTestId('pause-state').textContent()).toBe('All reminders are paused.');
    expect((await apiAs<{ reminders_paused: boolean }>(USERS.settings, '/me')).body.reminders_paused).toBe(true);
  });
});

describe('new lead', () => {
  it('creates a lead with a generated plan (the offline writer, no model configured)', async () => {
    const page = await open(USERS.newLead);
    await page.getByTestId('new-lead').click();
    await page.getByTestId('lead-name-input').fill('Gina Roy');
    await page.getByTestId('plan-mode-generate').click();
    await page.getByTestId('create-lead').click();
    await page.getByTestId('timeline').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Gina Roy');
    const steps = await page.locator('[data-testid=step]').count();
    expect(steps).toBeGreaterThanOrEqual(5);
    expect(steps).toBeLessThanOrEqual(8);
    const plans = await apiAs<{ leads: { name: string; steps: unknown[] }[] }>(USERS.newLead, '/plans');
    expect(plans.body.leads.find((lead) => lead.name === 'Gina Roy')?.steps.length).toBe(steps);
  });

  it('creates a lead with steps typed in', async () => {
    const page = await open(USERS.newLead, { route: '/leads/new' });
    await page.getByTestId('lead-name-input').fill('Hana Ito');
    await page.getByTestId('plan-mode-manual').click();
    await page.getByTestId('step-description').first().fill('Intro email about the pilot');
    await page.getByTestId('create-lead').click();
    await page.getByTestId('timeline').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Hana Ito');
    expect(await page.locator('[data-testid=step]').first().textContent()).toContain('Intro email about the pilot');
  });
});

describe('themes and sign-in', () => {
  it('renders the dark theme from Telegram’s theme params', async () => {
    const page = await open(USERS.dark, { theme: DARK_THEME });
    await page.locator('[data-testid=lead-card]').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
    const colours = await page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      card: getComputedStyle(document.querySelector('[data-testid=lead-card]')!).backgroundColor,
      text: getComputedStyle(document.querySelector('[data-testid=lead-name]')!).color,
    }));
    expect(colours).toEqual({ body: 'rgb(15, 15, 15)', card: 'rgb(33, 33, 33)', text: 'rgb(255, 255, 255)' });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-dark.png'), fullPage: true });
    await page.locator('[data-testid=lead-card]', { hasText: 'Bruno Costa' }).click();
    await page.locator('[data-testid=step]').first().getByTestId('step-toggle').click();
    await page.getByTestId('draft').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'lead-dark.png'), fullPage: true });
  });

  it('shows the outcome sheet and the lead editor in the dark theme', async () => {
    const id = leadId(USERS.dark, 'Femi Ade');
    const page = await open(USERS.dark, { theme: DARK_THEME, route: `/leads/${id}` });
    await page.getByTestId('record-outcome').click();
    const sheet = page.getByTestId('outcome-sheet');
    await sheet.waitFor();
    await sheet.getByTestId('outcome-meeting_booked').click();
    const colours = await page.evaluate(() => {
      const style = (selector: string) => getComputedStyle(document.querySelector(selector)!);
      return {
        sheet: style('[data-testid=outcome-sheet]').backgroundColor,
        text: style('[data-testid=outcome-sheet]').color,
        picked: style('[data-testid=outcome-meeting_booked]').backgroundColor,
        other: style('[data-testid=outcome-replied]').backgroundColor,
        reason: style('[data-testid=outcome-reason]').backgroundColor,
      };
    });
    expect(colours).toEqual({
      sheet: 'rgb(33, 33, 33)',
      text: 'rgb(255, 255, 255)',
      picked: 'rgb(135, 116, 225)',
      other: 'rgb(15, 15, 15)',
      reason: 'rgb(15, 15, 15)',
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'outcome-dark.png') });
    await sheet.getByRole('button', { name: 'Close' }).click();
    await sheet.waitFor({ state: 'detached' });

    await page.getByTestId('edit-lead').click();
    await page.getByTestId('field-name').waitFor();
    const field = await page.getByTestId('field-name').evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
    expect(field).toEqual(['rgb(15, 15, 15)', 'rgb(255, 255, 255)']);
    await page.screenshot({ path: join(SCREENSHOTS, 'lead-edit-dark.png'), fullPage: true });
  });

  it('opens the lead a "View lead" button links to, in Telegram’s theme', async () => {
    const id = leadId(USERS.dark, 'Chen Wei');
    watched = await openPage(browser);
    const params = launchHash(signInitData(USERS.dark), DARK_THEME).slice(1);
    await watched.page.goto(`${backend.url}/app/#/leads/${id}?${params}`);
    await watched.page.getByTestId('timeline').waitFor();
    expect(await watched.page.locator('h1').textContent()).toBe('Chen Wei');
    expect(await watched.page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
    expect(await watched.page.evaluate(() => window.location.hash)).toBe(`#/leads/${id}`);
  });

  it('uses the light theme’s colours from Telegram too', async () => {
    const page = await open(USERS.reader, { theme: LIGHT_THEME });
    await page.locator('[data-testid=lead-card]').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(false);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(244, 244, 245)');
  });

  it('shows an error screen, not a blank page, for forged initData', async () => {
    watched = await openPage(browser, [
      { url: '/me', status: 401 },
      { url: '/plans', status: 401 },
    ]);
    const forged = signInitData(USERS.reader, { token: '987654321:not-the-bot-token' });
    await watched.page.goto(`${backend.url}/app/${launchHash(forged)}`);
    const screen = watched.page.getByTestId('error-screen');
    await screen.waitFor();
    expect(await screen.textContent()).toContain('Telegram could not confirm who you are');
    expect(await screen.textContent()).toContain('signature is invalid');
  });

  it('outside Telegram, with a real bot configured, explains how to open it', async () => {
    watched = await openPage(browser, [{ url: '/dev/init-data', status: 404 }]);
    await watched.page.goto(`${backend.url}/app/`);
    const screen = watched.page.getByTestId('error-screen');
    await screen.waitFor();
    expect(await screen.textContent()).toContain('Open this app from the bot in Telegram');
  });
});

describe('local mode', () => {
  let local: Backend;
  beforeAll(async () => {
    local = await startBackend([], { localMode: true });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('opens in a plain browser as the demo user', async () => {
    watched = await openPage(browser);
    await watched.page.goto(`${local.url}/app/`);
    await watched.page.locator('[data-testid=lead-card]').first().waitFor();
    expect((await cardNames(watched.page)).sort()).toEqual(['Ana Lima', 'Bruno Costa', 'Chen Wei']);
    // Not inside Telegram: nothing was posted to a Telegram client.
    expect(await watched.telegramEvents()).toEqual([]);
    await watched.page.locator('[data-testid=lead-card]', { hasText: 'Ana Lima' }).click();
    await watched.page.getByTestId('timeline').waitFor();
    await watched.page.getByRole('link', { name: 'Back to all leads' }).click();
    await watched.page.getByTestId('lead-list').waitFor();
  });
});

describe('targets', () => {
  it('ships little JavaScript and shows the dashboard with data quickly', async () => {
    const loads = 7;
    const ready: number[] = [];
    const bytes: number[] = [];
    for (let i = 0; i < loads + 1; i++) {
      watched = await openPage(browser);
      // When the first lead card appears, measured from the start of navigation.
      await watched.context.addInitScript(() => {
        const w = window as unknown as { __ready?: number };
        new MutationObserver((_records, observer) => {
          if (document.querySelector('[data-testid=lead-card]')) {
            w.__ready = performance.now();
            observer.disconnect();
          }
        }).observe(document, { childList: true, subtree: true });
      });
      await watched.page.goto(`${backend.url}/app/${launchHash(signInitData(USERS.reader))}`);
      await watched.page.locator('[data-testid=lead-card]').first().waitFor();
      const ms = await watched.page.evaluate(() => (window as unknown as { __ready: number }).__ready);
      await watched.page.waitForLoadState('networkidle');
      if (i > 0) {
        // The first load warms the server's gzip cache and Python's code paths.
        ready.push(ms);
        bytes.push(watched.scriptBytes());
      }
      const problems = watched.problems;
      unexpected += problems.length;
      await watched.close();
      watched = null;
      expect(problems).toEqual([]);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const kb = median(bytes) / 1024;
    console.log(`first-screen JS ${kb.toFixed(1)} KB on the wire; dashboard with data: ${ready.map((x) => x.toFixed(0)).join(', ')} ms`);
    expect(kb).toBeLessThan(200);
    expect(median(ready)).toBeLessThan(1500);
    recordBench({ readyMs: ready, scriptKb: bytes.map((b) => b / 1024), loads, scenarios, unexpected });
  });
});
