/**
 * Browser notifications for new messages while the tab is hidden. The text says who wrote, never
 * what: notification contents may be stored or shown by the operating system.
 */
export type NotifyPermission = 'unsupported' | NotificationPermission;

export function notificationPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export async function requestNotifications(): Promise<NotifyPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

export function notifyIfHidden(title: string, body: string, tag: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !document.hidden) return;
  try {
    const n = new Notification(title, { body, tag, icon: './icon.svg' });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // some platforms allow notifications only from a service worker: no notification then
  }
}
