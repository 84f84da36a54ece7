import { useState } from 'react';
import { useToast } from '../../../components/toast';
import { ApiError } from '../../../lib/api-client';
import { haptic } from '../../../lib/telegram';
import { useAddNote } from '../api/plan-edits';

export function NoteForm({ leadId }: { leadId: number }) {
  const [text, setText] = useState('');
  const addNote = useAddNote(leadId);
  const toast = useToast();
  return (
    <form
      className="flex flex-col gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        if (!text.trim()) return;
        addNote.mutate(text.trim(), {
          onSuccess: () => {
            haptic('success');
            setText('');
            toast.show('Note saved');
          },
          onError: (error) => {
            haptic('error');
            const why =
              error instanceof ApiError && error.status === 404 && error.detail === 'Not Found'
                ? 'this server cannot take notes yet'
                : error instanceof ApiError
                  ? error.detail
                  : String(error);
            toast.show(`Could not save the note: ${why}`, 'error');
          },
        });
      }}
    >
      <textarea
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={2}
        maxLength={4000}
        placeholder="What happened? (the next draft will know)"
        aria-label="Note"
        className="rounded-xl bg-bg2 p-2 text-sm"
      />
      <button type="submit" disabled={!text.trim() || addNote.isPending} className="self-end rounded-xl bg-button px-3 py-1.5 text-sm text-button-fg disabled:opacity-50">
        Add note
      </button>
    </form>
  );
}
