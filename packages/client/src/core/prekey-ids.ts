/**
 * State-table keys of the prekey id counters, shared by the one-time top-up (prekeys.ts) and the
 * signed-pair rotation (prekey-rotation.ts): one-time and last-resort ML-KEM prekeys draw ids from
 * the same KEM counter, so both must use the same key.
 */
export const ONE_TIME_PREKEY_ID_STATE = 'next_one_time_prekey_id';
export const KEM_PREKEY_ID_STATE = 'next_kem_prekey_id';
