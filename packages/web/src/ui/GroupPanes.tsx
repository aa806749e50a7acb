import type { Contact, PigeonClient } from '@pigeon/client';
import type { View } from '../logic/app-state.js';
import { GroupChatView } from './GroupChatView.js';
import { GroupInfoPanel } from './GroupInfoPanel.js';
import { GroupJoinPending } from './GroupJoinPending.js';
import { NewGroupPanel } from './NewGroupPanel.js';
import type { GroupsApi } from './useGroups.js';

export function isGroupView(view: View): boolean {
  return view.name === 'group' || view.name === 'group-info' || view.name === 'new-group' || view.name === 'group-joining';
}

/** The pane for a group view (Main.tsx renders it when isGroupView); null when the group is gone. */
export function GroupPane({ view, client, groups, contacts, appUrl, navigate }: { view: View; client: PigeonClient; groups: GroupsApi; contacts: readonly Contact[]; appUrl: string; navigate: (v: View) => void }) {
  const back = () => navigate({ name: 'list' });
  const find = (id: string) => groups.state.groups.find((g) => g.id === id);
  if (view.name === 'new-group') {
    return (
      <NewGroupPanel
        client={client}
        contacts={contacts}
        hasAccountKey={groups.hasAccountKey}
        onCreated={(g) => {
          groups.dispatch({ type: 'group', group: g });
          navigate({ name: 'group', groupId: g.id });
        }}
        onBack={back}
      />
    );
  }
  if (view.name === 'group-joining') {
    const g = find(view.groupId);
    return <GroupJoinPending name={view.groupName} joined={g?.active === true} onOpen={() => navigate({ name: 'group', groupId: view.groupId })} onBack={back} />;
  }
  if (view.name === 'group') {
    const g = find(view.groupId);
    if (!g) return null;
    return (
      <GroupChatView
        client={client}
        group={g}
        messages={groups.state.messages[g.id] ?? []}
        contacts={contacts}
        onSent={groups.sent}
        onInfo={() => navigate({ name: 'group-info', groupId: g.id })}
        onBack={back}
      />
    );
  }
  if (view.name === 'group-info') {
    const g = find(view.groupId);
    if (!g) return null;
    return (
      <GroupInfoPanel
        key={g.id}
        client={client}
        group={g}
        contacts={contacts}
        hasAccountKey={groups.hasAccountKey}
        appUrl={appUrl}
        onChanged={(next) => groups.dispatch({ type: 'group', group: next })}
        onBack={() => navigate({ name: 'group', groupId: g.id })}
      />
    );
  }
  return null;
}
