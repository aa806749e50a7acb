/**
 * Every version, label and limit of the protocol in one place (docs/protocol.md lists them).
 * Labels are ASCII; each KDF or signature input starts with its own label so no two
 * contexts can ever share an input (domain separation).
 */
import { utf8 } from '@pigeon/crypto';

// ---- versions (the first byte of every encoding) ----
export const CERTIFICATE_VERSION = 1;
export const KEY_STORAGE_VERSION = 1;
export const PREKEY_STORAGE_VERSION = 1;
export const BUNDLE_VERSION = 1;
export const PREKEY_MESSAGE_VERSION = 1;
/**
 * Whisper (Double Ratchet) message version. 1 = classic X25519 ratchet. The value 2 is
 * reserved for a later post-quantum ratchet step (an ML-KEM chunk after the header, as in
 * Signal's SPQR "triple ratchet"); v1 decoders refuse it with UNKNOWN_VERSION.
 */
export const WHISPER_MESSAGE_VERSION = 1;
export const SESSION_RECORD_VERSION = 1;
export const SESSION_STATE_VERSION = 1;
/** Ratchet kind stored per session: 1 = DR over X25519 only; reserved for a PQ ratchet. */
export const RATCHET_CLASSIC = 1;
export const SEALED_SENDER_VERSION = 1;
export const SAFETY_QR_VERSION = 1;

// ---- labels ----
export const LABEL_CERTIFICATE = utf8.encode('Pigeon_DeviceCertificate_v1\0');
export const LABEL_PREKEY_SIGNATURE = utf8.encode('Pigeon_PreKeySignature_v1\0');
export const LABEL_RELAY_AUTH = utf8.encode('Pigeon_RelayAuth_v1\0');
/** PQXDH info string: protocol || version || curve || hash || KEM (PQXDH spec section 2.2). */
export const LABEL_PQXDH_INFO = utf8.encode('Pigeon_PQXDH_v1_CURVE25519_SHA-256_ML-KEM-1024');
export const LABEL_PQXDH_TRANSCRIPT = utf8.encode('Pigeon_PQXDH_v1_Transcript\0');
export const LABEL_ROOT_KDF = utf8.encode('Pigeon_DoubleRatchet_v1_Root');
export const LABEL_MESSAGE_KEYS = utf8.encode('Pigeon_DoubleRatchet_v1_MessageKeys');
export const LABEL_SEALED_EPHEMERAL = utf8.encode('Pigeon_SealedSender_v1_Ephemeral\0');
export const LABEL_SEALED_STATIC = utf8.encode('Pigeon_SealedSender_v1_Static\0');

// ---- key and field sizes ----
export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const KEM_PUBLIC_KEY_BYTES = 1568;
export const KEM_SECRET_KEY_BYTES = 3168;
export const KEM_CIPHERTEXT_BYTES = 1568;
export const ID_BYTES = 16;
export const AES_NONCE_BYTES = 12;
export const AES_TAG_BYTES = 16;
/** version(1) + three keys + createdAt(8) + signature. */
export const CERTIFICATE_BYTES = 1 + 3 * KEY_BYTES + 8 + SIGNATURE_BYTES;

// ---- limits ----
/** Largest forward jump inside one receiving chain (libsignal MAX_FORWARD_JUMPS). */
export const MAX_SKIP = 25_000;
/** Skipped message keys kept per session, oldest evicted first (libsignal MAX_MESSAGE_KEYS). */
export const MAX_SKIPPED_KEYS = 2_000;
/** A skipped key older than this is dropped: a message that late is treated as lost. */
export const MAX_SKIPPED_KEY_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** Receiving chains kept per session (libsignal MAX_RECEIVER_CHAINS). */
export const MAX_RECEIVER_CHAINS = 5;
/** Sessions kept besides the active one (libsignal ARCHIVED_STATES_MAX_LENGTH). */
export const MAX_PREVIOUS_SESSIONS = 40;
/** Plaintext bound so a sealed envelope fits the relay's 256 KiB envelope limit. */
export const MAX_PLAINTEXT_BYTES = 250_000;
/** Padding block (Signal pads message bodies to multiples of 160 bytes). */
export const PADDING_BLOCK = 160;
export const MAX_PADDED_BYTES = MAX_PLAINTEXT_BYTES + PADDING_BLOCK;
export const MAX_WHISPER_BYTES = 1 + KEY_BYTES + 8 + MAX_PADDED_BYTES + AES_TAG_BYTES;
export const MAX_PREKEY_MESSAGE_BYTES = MAX_WHISPER_BYTES + 4096;
export const MAX_CERTIFICATE_BYTES = 1024;
export const MAX_AUTH_NONCE_BYTES = 256;
/** Associated data stored per session: IK_A || IK_B || transcript hash. */
export const SESSION_AD_BYTES = 3 * KEY_BYTES;
export const MAX_SESSION_STATE_BYTES = 1 << 20;
/** Extension bytes reserved in each session state for a later PQ ratchet (empty in v1). */
export const MAX_RATCHET_EXTENSION_BYTES = 64 * 1024;
/** Iterations of SHA-512 in the numeric fingerprint (Signal NumericFingerprintGenerator). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
export const SAFETY_NUMBER_VERSION = 0;
