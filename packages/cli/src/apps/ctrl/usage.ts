/**
 * mosquitto_ctrl's usage texts, byte for byte as 2.0.20 prints them, the version line naming
 * skeeter's version as the other tools' do.
 */
import { versionLine } from '../../clients/version.js';

/** print_usage(): no arguments, fewer than two left after the options, or a bad option. */
export function ctrlUsage(): string {
  return (
    'mosquitto_ctrl is a tool for administering certain Mosquitto features.\n' +
    versionLine('mosquitto_ctrl') +
    '\nGeneral usage: mosquitto_ctrl <module> <module-command> <command-options>\n' +
    'For module specific help use: mosquitto_ctrl <module> help\n' +
    '\nModules available: dynsec\n' +
    '\nFor more information see:\n' +
    '    https://mosquitto.org/man/mosquitto_ctrl-1.html\n\n'
  );
}

/** `mosquitto_ctrl dynsec help`. */
export const DYNSEC_USAGE =
  '\nDynamic Security module\n' +
  '=======================\n' +
  '\nInitialisation\n--------------\n' +
  'Create a new configuration file with an admin user:\n' +
  '    mosquitto_ctrl dynsec init <new-config-file> <admin-username> [admin-password]\n' +
  '\nGeneral\n-------\n' +
  'Get ACL default access:          getDefaultACLAccess\n' +
  'Set ACL default access:          setDefaultACLAccess <acltype> allow|deny\n' +
  'Get group for anonymous clients: getAnonymousGroup\n' +
  'Set group for anonymous clients: setAnonymousGroup   <groupname>\n' +
  '\nClients\n-------\n' +
  'Create a new client:         createClient      <username> [-c clientid] [-p password]\n' +
  'Delete a client:             deleteClient      <username>\n' +
  'Set a client password:       setClientPassword <username> [password]\n' +
  'Set a client id:             setClientId       <username> [clientid]\n' +
  'Add a role to a client:      addClientRole     <username> <rolename> [priority]\n' +
  '    Higher priority (larger numerical value) roles are evaluated first.\n' +
  'Remove role from a client:   removeClientRole  <username> <rolename>\n' +
  'Get client information:      getClient         <username>\n' +
  'List all clients:            listClients       [count [offset]]\n' +
  'Enable client:               enableClient      <username>\n' +
  'Disable client:              disableClient     <username>\n' +
  '\nGroups\n------\n' +
  'Create a new group:          createGroup       <groupname>\n' +
  'Delete a group:              deleteGroup       <groupname>\n' +
  'Add a role to a group:       addGroupRole      <groupname> <rolename> [priority]\n' +
  '    Higher priority (larger numerical value) roles are evaluated first.\n' +
  'Remove role from a group:    removeGroupRole   <groupname> <rolename>\n' +
  'Add client to a group:       addGroupClient    <groupname> <username> [priority]\n' +
  '    Priority sets the group priority for the given client only.\n' +
  '    Higher priority (larger numerical value) groups are evaluated first.\n' +
  'Remove client from a group:  removeGroupClient <groupname> <username>\n' +
  'Get group information:       getGroup          <groupname>\n' +
  'List all groups:             listGroups        [count [offset]]\n' +
  '\nRoles\n------\n' +
  'Create a new role:           createRole        <rolename>\n' +
  'Delete a role:               deleteRole        <rolename>\n' +
  'Add an ACL to a role:        addRoleACL        <rolename> <aclspec> [priority]\n' +
  '    Higher priority (larger numerical value) ACLs are evaluated first.\n' +
  'Remove ACL from a role:      removeRoleACL     <rolename> <aclspec>\n' +
  'Get role information:        getRole           <rolename>\n' +
  'List all roles:              listRoles         [count [offset]]\n' +
  '\naclspec:                     <acltype> <topicFilter> allow|deny\n' +
  'acltype:                     publishClientSend|publishClientReceive\n' +
  '                              |subscribeLiteral|subscribePattern\n' +
  '                              |unsubscribeLiteral|unsubscribePattern\n' +
  '\nFor more information see:\n' +
  '    https://mosquitto.org/documentation/dynamic-security/\n\n';
