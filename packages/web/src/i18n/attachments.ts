/**
 * Strings of attachments (attach button, file and image bubbles, upload/download progress),
 * spread into en.ts / ru.ts so their keys are ordinary MessageKeys.
 */
export const attachmentsEn = {
  attachFile: 'Attach a file',
  uploading: 'Sending… {percent}%',
  uploadFailed: 'Could not send the file ({code}).',
  downloadFile: 'Download',
  downloading: 'Downloading… {percent}%',
  saveFile: 'Save {name}',
  showImage: 'Show image',
  openFullSize: 'Open {name} full size',
  closeImage: 'Close',
  attachmentTampered: 'The file did not pass verification and was discarded.',
  attachmentTooLarge: 'This file is too large to open in the browser.',
  storageFull: 'Not enough free space in the browser for this file.',
  downloadFailed: 'Could not download the file ({code}).',
  dropToSend: 'Drop a file to send it',
  cancelTransfer: 'Cancel',
};

export const attachmentsRu: Record<keyof typeof attachmentsEn, string> = {
  attachFile: 'Прикрепить файл',
  uploading: 'Отправка… {percent}%',
  uploadFailed: 'Не удалось отправить файл ({code}).',
  downloadFile: 'Скачать',
  downloading: 'Загрузка… {percent}%',
  saveFile: 'Сохранить {name}',
  showImage: 'Показать изображение',
  openFullSize: 'Открыть {name} в полном размере',
  closeImage: 'Закрыть',
  attachmentTampered: 'Файл не прошёл проверку и был отброшен.',
  attachmentTooLarge: 'Файл слишком большой, чтобы открыть его в браузере.',
  storageFull: 'Браузеру не хватает места для этого файла.',
  downloadFailed: 'Не удалось скачать файл ({code}).',
  dropToSend: 'Отпустите файл, чтобы отправить',
  cancelTransfer: 'Отменить',
};
