import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

/** A button on a toast ("Undo"), offered for `forMs` at most and never past the toast. */
export interface ToastAction {
  label: string;
  onClick: () => void;
  forMs: number;
}

interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error';
  action?: ToastAction;
}

interface ToastApi {
  show: (text: string, tone?: Toast['tone'], action?: ToastAction) => void;
}

const ToastContext = createContext<ToastApi>({ show: () => undefined });

const SHOWN_MS = { info: 2500, error: 6000 };
/** Long enough to read the line and reach the button with a thumb. */
const WITH_ACTION_MS = 8000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (text: string, tone: Toast['tone'] = 'info', action?: ToastAction) => {
      const id = next.current++;
      const offered = action && action.forMs > 0 ? action : undefined;
      // Errors stay longer: they explain why something the user did was undone.
      const shownMs = offered ? WITH_ACTION_MS : SHOWN_MS[tone];
      setToasts((list) => [...list, { id, text, tone, action: offered }]);
      setTimeout(() => dismiss(id), shownMs);
      if (offered && offered.forMs < shownMs) {
        // The window closed before the toast did: the line stays, the button goes.
        setTimeout(() => setToasts((list) => list.map((t) => (t.id === id ? { ...t, action: undefined } : t))), offered.forMs);
      }
    },
    [dismiss],
  );
  const value = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex flex-col items-center gap-2 px-4" aria-live="polite">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            role={toast.tone === 'error' ? 'alert' : 'status'}
            data-testid={toast.tone === 'error' ? 'toast-error' : 'toast'}
            className={`pointer-events-auto flex max-w-md items-center gap-3 rounded-xl px-4 py-2 text-sm shadow-lg ${
              toast.tone === 'error' ? 'bg-red-600 text-white' : 'bg-gray-900 text-white dark:bg-gray-100 dark:text-gray-900'
            }`}
          >
            <span>{toast.text}</span>
            {toast.action && (
              <button
                type="button"
                data-testid="toast-action"
                className="-my-1 shrink-0 rounded-lg px-2 py-1 font-semibold text-sky-300 underline-offset-2 hover:underline dark:text-sky-700"
                onClick={() => {
                  dismiss(toast.id);
                  toast.action?.onClick();
                }}
              >
                {toast.action.label}
              </button>
            )}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

// eslint-disable-next-line react-refresh/only-export-components
export function useToast(): ToastApi {
  return useContext(ToastContext);
}
