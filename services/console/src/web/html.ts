/**
 * HTML for the dashboard's server-rendered pages: one tagged template, `html`, that escapes every
 * value put into it unless the value is already HTML (the result of another `html`). Org, team,
 * project and key names, status messages and table cells come from customers' systems and the
 * vendors' APIs; escaping them in this one place keeps a crafted name from running as script in an
 * operator's browser (OWASP Cross Site Scripting Prevention Cheat Sheet, "Output Encoding for HTML
 * Contexts"). Attribute values are always written in double quotes, so the same escaping covers them.
 */

/** Markup that is safe to insert as is. Only `html` and `raw` make one. */
export class Html {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate: text (escaped), markup, lists of either; null, undefined and false are nothing. */
export type Value = Html | string | number | null | undefined | false | readonly Value[];

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text as HTML element content or a quoted attribute value. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: Value): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return "";
  if (typeof value === "string") return escape(value);
  if (typeof value === "number") return escape(String(value));
  return value.map(render).join("");
}

/** `html\`<td>${name}</td>\``: the literal parts as written, every value escaped. */
export function html(strings: TemplateStringsArray, ...values: readonly Value[]): Html {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    text += render(value) + (strings[i + 1] ?? "");
  });
  return new Html(text);
}

/** Markup written by this code (a stylesheet, a built SVG path), never data. */
export const raw = (text: string): Html => new Html(text);

/** A path with a query string; values are URL-encoded, undefined ones left out. */
export function href(
  path: string,
  query: Readonly<Record<string, string | number | undefined>> = {},
): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const search = params.toString();
  return search === "" ? path : `${path}?${search}`;
}

/**
 * A page as sent: every run of white space (the templates' indentation) as one space. HTML renders
 * white space that way anyway outside <pre> and <textarea>, which the dashboard does not use.
 */
export const compact = (page: Html): string => page.text.replace(/\s+/g, " ").trim();
