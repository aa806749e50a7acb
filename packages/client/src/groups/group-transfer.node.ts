/**
 * The Node side of group attachments: `client.groups.sendAttachment(group, filePath)` streams a
 * file to our relay's blob store once and sends its reference to the group (the core's
 * GroupManager has the platform-neutral sendAttachmentBlob). Downloads go through
 * client.downloadAttachment, which finds group messages' references too.
 */
import { uploadForMessage, type SendAttachmentOptions } from '../attachments/client-transfer.node.js';
import { GroupManager } from './manager.js';
import type { GroupMessage } from './types.js';

export class NodeGroupManager extends GroupManager {
  /**
   * Encrypts the file with a fresh key, uploads it once (resuming after dropped connections)
   * and sends the reference in one Sender-Key message to every member device.
   */
  async sendAttachment(group: string, filePath: string, options: SendAttachmentOptions = {}): Promise<GroupMessage> {
    const groupId = this.checkAttachmentSend(group, options.caption ?? '');
    const { reference } = await uploadForMessage(this.attachmentUploader(), filePath, options);
    return this.sendAttachmentReference(groupId, reference, options.caption ?? '');
  }
}
