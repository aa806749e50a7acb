/**
 * Strings of QR scanning (the camera dialog and the "Scan" buttons next to the paste fields),
 * spread into en.ts / ru.ts so their keys are ordinary MessageKeys.
 */
export const scanEn = {
  scanQr: 'Scan QR code',
  scanTitle: 'Scan a QR code',
  scanAim: 'Point the camera at the QR code.',
  scanPrivacy: 'The picture stays on this device: it is decoded here and never sent.',
  scanStarting: 'Starting the camera…',
  scanVideo: 'Camera view',
  scanErrNoCamera: 'No camera was found. Paste the code instead.',
  scanErrDenied: 'Camera access was denied. Allow the camera for this site in the browser settings, or paste the code.',
  scanErrInsecure: 'The camera works only on a secure (https) page. Paste the code instead.',
  scanErrBusy: 'The camera is busy (another app may be using it). Close it there and try again.',
  scanErrFailed: 'The camera could not be started. Paste the code instead.',
  scanNotPigeon: 'This QR code is not a Pigeon code.',
  scanTheirCode: 'Scan their code',
  scanNotSafety: 'This QR code is not a Pigeon safety number code.',
  safetyScanMatch: 'The codes match: {name} is now verified.',
  safetyScanMismatch: 'The codes do NOT match. This may not be {name}’s device, or one of you has new keys. Nothing was changed.',
};

export const scanRu: Record<keyof typeof scanEn, string> = {
  scanQr: 'Сканировать QR-код',
  scanTitle: 'Сканирование QR-кода',
  scanAim: 'Наведите камеру на QR-код.',
  scanPrivacy: 'Изображение остаётся на этом устройстве: оно распознаётся здесь и никуда не отправляется.',
  scanStarting: 'Включаем камеру…',
  scanVideo: 'Изображение с камеры',
  scanErrNoCamera: 'Камера не найдена. Вставьте код вручную.',
  scanErrDenied: 'Доступ к камере запрещён. Разрешите камеру для этого сайта в настройках браузера или вставьте код.',
  scanErrInsecure: 'Камера работает только на защищённой (https) странице. Вставьте код вручную.',
  scanErrBusy: 'Камера занята (возможно, её использует другое приложение). Закройте его и попробуйте снова.',
  scanErrFailed: 'Не удалось включить камеру. Вставьте код вручную.',
  scanNotPigeon: 'Этот QR-код не относится к Pigeon.',
  scanTheirCode: 'Сканировать их код',
  scanNotSafety: 'Этот QR-код не является кодом безопасности Pigeon.',
  safetyScanMatch: 'Коды совпадают: {name} теперь проверен.',
  safetyScanMismatch: 'Коды НЕ совпадают. Возможно, это не устройство {name}, или у кого-то из вас новые ключи. Ничего не изменено.',
};
