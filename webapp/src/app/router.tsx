import { lazy, Suspense } from 'react';
import { HashRouter, Route, Routes } from 'react-router';
import { Dashboard } from '../features/leads/components/dashboard';
import { LeadPage } from '../features/leads/components/lead-page';
import { NewLeadPage } from '../features/leads/components/new-lead-page';
import { PlanEditorPage } from '../features/leads/components/plan-editor-page';
import { SettingsPage } from '../features/settings/components/settings-page';
import { ErrorScreen } from '../components/error-screen';
import { Spinner } from '../components/spinner';

// Editing a lead is occasional: its page loads when first opened, not with the dashboard.
const LeadDetailsPage = lazy(() =>
  import('../features/leads/components/lead-details-page').then((m) => ({ default: m.LeadDetailsPage })),
);

// A hash router: the server only knows /app/, and Telegram's own parameters were already
// read from the hash in main.tsx before this mounted.
export function AppRouter() {
  return (
    <HashRouter>
      <Routes>
        <Route path="/" element={<Dashboard />} />
        <Route path="/leads/new" element={<NewLeadPage />} />
        <Route path="/leads/:leadId" element={<LeadPage />} />
        <Route path="/leads/:leadId/edit" element={<PlanEditorPage />} />
        <Route
          path="/leads/:leadId/details"
          element={
            <Suspense fallback={<Spinner />}>
              <LeadDetailsPage />
            </Suspense>
          }
        />
        <Route path="/settings" element={<SettingsPage />} />
        <Route path="*" element={<ErrorScreen title="Nothing here" detail="This page does not exist." />} />
      </Routes>
    </HashRouter>
  );
}
