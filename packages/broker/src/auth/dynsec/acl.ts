/**
 * ACL checks (2.0.20's acl.c): the client's own roles first, then its groups' roles, each list
 * in priority order; the first ACL that matches decides. A client without a user name uses the
 * anonymous group, if any. When nothing matches, the default access for the kind decides:
 * allowed ('allow'), or left to the others ('defer', which denies when nobody else allows) -
 * and `$CONTROL` topics are never allowed by default. A user name dynsec does not know is
 * always deferred.
 */
import { topicMatches } from '@skeeter/codec';
import type { AclAccess } from '../../security.js';
import type { PluginVerdict } from '../plugins.js';
import type { AclList, DynsecData, RoleLink } from './model.js';

type Verdict = 'allow' | 'deny' | undefined;

function publishCheck(roles: readonly RoleLink[], which: 'publishClientSend' | 'publishClientReceive', topic: string): Verdict {
  for (const { role } of roles) {
    for (const acl of role.acls[which].items) {
      if (acl.wellFormed && topicMatches(acl.topic, topic)) return acl.allow ? 'allow' : 'deny';
    }
  }
  return undefined;
}

function subscribeCheck(roles: readonly RoleLink[], literal: 'subscribeLiteral' | 'unsubscribeLiteral', filter: string): Verdict {
  const pattern = literal === 'subscribeLiteral' ? 'subscribePattern' : 'unsubscribePattern';
  for (const { role } of roles) {
    // Per role: an exact literal first, then the patterns in priority order.
    const exact = role.acls[literal].byTopic.get(filter);
    if (exact !== undefined) return exact.allow ? 'allow' : 'deny';
    for (const acl of (role.acls[pattern] as AclList).items) {
      if (subAclCheck(acl.topic, filter)) return acl.allow ? 'allow' : 'deny';
    }
  }
  return undefined;
}

/**
 * Whether an ACL pattern covers a whole subscription filter (sub_acl_check): level by level,
 * `+` in the ACL covers any one level (a `+` in the filter only by `+`), a trailing `#` in the
 * ACL covers any further levels and the parent level; a filter ending in `#` needs an ACL
 * ending in `#`.
 */
export function subAclCheck(acl: string, sub: string): boolean {
  if (acl === '#') return true;
  let a = acl;
  let s = sub;
  const aclHash = stripHash(a);
  if (aclHash !== undefined) a = aclHash;
  const subHash = stripHash(s);
  if (subHash !== undefined) s = subHash;
  if (subHash !== undefined && aclHash === undefined) return false;
  const aLevels = a.split('/');
  const sLevels = s.split('/');
  if (aLevels.length > sLevels.length) return false;
  if (sLevels.length > aLevels.length && aclHash === undefined) return false;
  for (let i = 0; i < sLevels.length; i++) {
    if (i < aLevels.length) {
      if (aLevels[i] !== '+' && aLevels[i] !== sLevels[i]) return false;
    } else if (aclHash === undefined) {
      return false;
    }
  }
  return true;
}

/** `#` → '' and `x/#` → 'x' (hash_check); undefined when the string does not end so. */
function stripHash(s: string): string | undefined {
  if (s === '#') return '';
  if (s.length > 1 && s.endsWith('/#')) return s.slice(0, -2);
  return undefined;
}

/**
 * The check for one access by a client with this user name (a byte string, undefined when
 * anonymous) on this topic or filter (a byte string).
 */
export function aclCheck(data: DynsecData, username: string | undefined, access: AclAccess, topic: string): PluginVerdict {
  let check: (roles: readonly RoleLink[]) => Verdict;
  let byDefault: boolean;
  switch (access) {
    case 'write':
      check = (roles) => publishCheck(roles, 'publishClientSend', topic);
      byDefault = data.defaultAccess.publishClientSend;
      break;
    case 'read':
      check = (roles) => publishCheck(roles, 'publishClientReceive', topic);
      byDefault = data.defaultAccess.publishClientReceive;
      break;
    case 'subscribe':
      check = (roles) => subscribeCheck(roles, 'subscribeLiteral', topic);
      byDefault = data.defaultAccess.subscribe;
      break;
    case 'unsubscribe':
      check = (roles) => subscribeCheck(roles, 'unsubscribeLiteral', topic);
      byDefault = data.defaultAccess.unsubscribe;
      break;
    default:
      return 'defer';
  }
  if (username !== undefined) {
    const client = data.clients.get(username);
    if (client === undefined) return 'defer';
    const own = check(client.roles);
    if (own !== undefined) return own;
    for (const { group } of client.groups) {
      const v = check(group.roles);
      if (v !== undefined) return v;
    }
  } else if (data.anonymousGroup !== undefined) {
    const v = check(data.anonymousGroup.roles);
    if (v !== undefined) return v;
  }
  // Fall-through access is never given to $CONTROL topics: they must be granted explicitly.
  if (!byDefault || topic.startsWith('$CONTROL')) return 'defer';
  return 'allow';
}
