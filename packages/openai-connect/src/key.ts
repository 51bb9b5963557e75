/**
 * Which kind of OpenAI key a person pasted, told from its prefix before any request: the admin
 * endpoints answer only to an Organization Admin Key, and a project, service-account or user key
 * pasted by mistake is the most common way a connection fails (simulators/openai/reference/README.md
 * §1 "Auth": admin keys look like `sk-admin-…`; project and user keys cannot call admin endpoints;
 * only Organization Owners can create admin keys). The prefix is only a hint, so an `sk-admin-`
 * key is still probed. A message never repeats the key.
 */

/** Where an Organization Owner creates an admin key. */
export const ADMIN_KEYS_PAGE = "https://platform.openai.com/settings/organization/admin-keys";

const HOW_TO_GET_ONE =
  "The OpenAI admin endpoints accept only an Organization Admin Key (it starts with sk-admin-). " +
  "Only an Organization Owner can create one: platform.openai.com → Settings → Organization → Admin keys " +
  `(${ADMIN_KEYS_PAGE}).`;

export type KeyShape = { ok: true } | { ok: false; message: string };

export function checkAdminKeyShape(key: string): KeyShape {
  if (key.startsWith("sk-admin-")) return { ok: true };
  const what = key.startsWith("sk-proj-")
    ? "is a project API key (sk-proj-…), not an admin key"
    : key.startsWith("sk-svcacct-")
      ? "is a service account key (sk-svcacct-…), not an admin key"
      : key.startsWith("sk-")
        ? "is a user or legacy API key (sk-…), not an admin key"
        : "is not an OpenAI key (OpenAI keys start with sk-)";
  return { ok: false, message: `The key given ${what}. ${HOW_TO_GET_ONE}` };
}
