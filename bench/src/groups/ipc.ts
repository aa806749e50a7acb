/** Messages between the group benchmark's sender (the coordinator) and its members child (Node IPC). */

// ---- coordinator -> members child
export type ToMembers =
  /** Registers `light` protocol-level member devices and opens `real` SDK clients; answers with their invite links. */
  | { readonly type: 'setup'; readonly url: string; readonly light: number; readonly real: number; readonly home: string }
  /** Real members: send the sender one message each (so its sessions with them are answered). */
  | { readonly type: 'greet'; readonly senderId: string }
  /** Starts counting who receives the next message (`label`, seen in clear only by the real members); the group has the first `light` light members. */
  | { readonly type: 'expect'; readonly label: string; readonly light: number }
  | { readonly type: 'count' }
  | { readonly type: 'stop' };

// ---- members child -> coordinator
export type FromMembers =
  /** Invite links (real members first), real members' account ids, and each light member's device id (hex, link order). */
  | { readonly type: 'ready'; readonly links: readonly string[]; readonly realIds: readonly string[]; readonly lightDeviceIds: readonly string[]; readonly ms: number }
  | { readonly type: 'greeted' }
  | { readonly type: 'expecting' }
  /** Light member accounts with at least one delivery since `expect`, and real members that decrypted `label`. */
  | { readonly type: 'count'; readonly light: number; readonly real: number }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'stopped' };
