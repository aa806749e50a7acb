/** The code of an SDK error (ClientError and friends all carry one), for messages shown to people. */
export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
}
