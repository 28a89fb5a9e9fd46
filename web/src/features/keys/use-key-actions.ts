import { useCallback, useRef, useState } from 'react';
import { focusTrigger, returnFocus, type FocusTrigger } from '../../lib/focus';
import { navigate } from '../../lib/router';
import type { ApiKey, IssuedKey } from '../../lib/types';
import { openRotation } from '../rotation/api';
import { useResumeKey } from './api';
import type { KeyDialogState } from './KeyDialogs';
import { done, failed } from './KeyDialogs';
import type { KeyAction } from './key-rules';

/**
 * Which key dialog is open. `open(action, key)` starts one (Resume needs none: it happens at
 * once); `dialogs` is what `<KeyActionDialogs>` draws. Closing any of them, the secret of a
 * rotated key last, returns focus to what opened it.
 */
export function useKeyActions() {
  const [state, setState] = useState<KeyDialogState>({ current: null, issued: null });
  const trigger = useRef<FocusTrigger | null>(null);
  const resume = useResumeKey();

  // The same function across renders (`mutate` and `setState` are stable), so memoised key
  // rows skip the page's re-renders.
  const resumeKey = resume.mutate;
  const open = useCallback(
    (action: KeyAction, key: ApiKey) => {
      if (action === 'resume') {
        resumeKey(key.id, {
          onSuccess: (resumed) => done(`"${resumed.name}" is active again; flows using it work from the next call.`),
          onError: (error) => failed('The key was not resumed', error),
        });
        return;
      }
      trigger.current = focusTrigger();
      setState({ current: { action, key }, issued: null });
    },
    [resumeKey],
  );
  const close = () => {
    setState({ current: null, issued: null });
    returnFocus(trigger.current);
  };
  // A rotation opens the rotation assistant, which shows the new key once and follows the flows moving over.
  const rotated = (issued: IssuedKey) => {
    setState({ current: null, issued: null });
    if (issued.key.replacesKeyId) openRotation(issued.key.replacesKeyId, issued, navigate);
    else setState({ current: null, issued });
  };
  return { open, dialogs: { state, onClose: close, onRotated: rotated } };
}
