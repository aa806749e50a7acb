import type { MessageRequest, PigeonClient } from '@pigeon/client';
import { useState } from 'preact/hooks';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';

/**
 * Message requests: mail from senders who are not contacts, held apart by the SDK (no receipts
 * are sent) until the user accepts (they become a contact) or rejects (optionally blocking).
 */
export function RequestsPanel({ client, requests, onChanged }: { client: PigeonClient; requests: readonly MessageRequest[]; onChanged: (acceptedContactId?: string) => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  if (requests.length === 0) return null;
  const act = (p: Promise<unknown>, accepted?: string) =>
    p.then(
      () => {
        setError(null);
        onChanged(accepted);
      },
      (err: unknown) => setError(t('actionFailed', { code: errorCode(err) })),
    );
  return (
    <section class="requests" aria-label={t('requests')} data-testid="requests">
      <h3>{t('requests')}</h3>
      <ul>
        {requests.map((r) => (
          <li key={r.id} data-testid="request">
            <strong>{t('requestFrom', { name: r.name || t('unknownSender'), count: r.messages })}</strong>
            <div class="muted small">{r.pigeonId}</div>
            {client.life.requestMessages(r.id).map((m) => (
              <p class="small" dir="auto" key={m.id}>
                {m.text}
              </p>
            ))}
            <div class="row">
              {r.introduced ? (
                <button type="button" class="primary" data-testid="accept-request" onClick={() => act(client.acceptRequest(r.id), r.id)}>
                  {t('acceptRequest')}
                </button>
              ) : (
                <span class="muted small">{t('notIntroduced')}</span>
              )}
              <button type="button" class="secondary" onClick={() => act(client.rejectRequest(r.id))}>
                {t('reject')}
              </button>
              <button type="button" class="link" onClick={() => act(client.rejectRequest(r.id, { block: true }))}>
                {t('rejectAndBlock')}
              </button>
            </div>
          </li>
        ))}
      </ul>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
