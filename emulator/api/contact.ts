import { Code, badParam, refuse, scopeMissing } from '../errors';
import { perMinute, perSecond } from '../rate-limits';
import type { EmulatorState } from '../state';
import { type Handler, ok } from './exchange';

/** The scopes any one of which lets an app read a user (contact-v3 user get); Feishu lists them when refusing. */
const CONTACT_SCOPES = ['contact:contact.base:readonly', 'contact:contact:readonly_as_app', 'contact:contact:access_as_app', 'contact:contact:readonly'];

/**
 * GET /open-apis/contact/v3/users/:user_id: a person's profile, `time_zone` included. Without a contact scope
 * Feishu refuses the call as it refuses any call lacking its scope: HTTP 400, code 99991672, the acceptable scopes
 * named in the message and in `error.permission_violations`. Someone outside the emulated organisation (the app's
 * contact range) is 41050.
 */
export const getUser: Handler = (call, state) => {
  const userIdType = call.query.user_id_type ?? 'open_id';
  if (userIdType !== 'open_id') throw badParam(`user_id_type ${userIdType}: the emulator knows people by open_id only`);
  if (!state.contactScopeGranted) throw scopeMissing(CONTACT_SCOPES);
  state.limitApp([perSecond('contact.user.get', 50), perMinute('contact.user.get', 1000)]);
  const openId = call.params.user_id ?? '';
  if (!isKnownPerson(state, openId)) throw refuse(Code.noUserAuthority, 'no user authority error');
  const name = openId.replace(/^ou_/, '');
  return ok({
    user: {
      open_id: openId,
      union_id: `on_${name}`,
      user_id: `u_${name}`,
      name,
      en_name: name,
      time_zone: state.timeZones.get(openId) ?? DEFAULT_PROFILE_ZONE,
      status: { is_frozen: false, is_resigned: false, is_activated: true, is_exited: false, is_unjoin: false },
    },
  });
};

/** The zone Feishu fills in for a profile nobody changed: the tenant's, Shanghai here. */
export const DEFAULT_PROFILE_ZONE = 'Asia/Shanghai';

function isKnownPerson(state: EmulatorState, openId: string): boolean {
  if (state.timeZones.has(openId)) return true;
  for (const chat of state.chats.values()) if (chat.memberIds.includes(openId)) return true;
  return false;
}
