/**
 * The dashboard's one stylesheet, served from the console itself (/dashboard.css): system fonts,
 * no web font, no CDN. Colours meet WCAG 2.2 AA contrast (4.5:1 for text) on their backgrounds;
 * red marks what asks for action and is always paired with a word (WCAG 1.4.1, not colour alone).
 * Narrow screens: the header and the key figures wrap, forms stack, and each table scrolls
 * sideways inside its own box so the page itself never does.
 */
export const STYLESHEET = `
:root {
  --text: #1b1f24; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa; --bg: #ffffff;
  --accent: #0b5cad; --alert: #b3261e; --alert-bg: #fdeceb; --alert-text: #8c1d18; --ok: #1a7f37;
  --bar: #0b5cad; --focus: #0b5cad;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--text); background: var(--bg); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif;
  overflow-wrap: anywhere;
}
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
.scroll:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: 0.5rem; z-index: 10; }

header.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.25rem;
  padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel);
}
.brand { font-weight: 700; font-size: 1.1rem; color: var(--text); text-decoration: none; }
.tenant { color: var(--muted); }
header.top nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.top nav a { text-decoration: none; padding: 0.25rem 0; border-bottom: 3px solid transparent; }
header.top nav a[aria-current="page"] { color: var(--text); font-weight: 600; border-bottom-color: var(--accent); }
header.top form { margin-left: auto; }

main { max-width: 1240px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.5rem; }
p.about, .muted { color: var(--muted); }

button, .button {
  font: inherit; cursor: pointer; border: 1px solid var(--accent); background: var(--accent); color: #fff;
  padding: 0.45rem 0.9rem; border-radius: 6px; text-decoration: none; display: inline-block;
}
button.secondary { background: var(--bg); color: var(--accent); }
button.danger { background: var(--bg); color: var(--alert); border-color: var(--alert); }

.notice { padding: 0.75rem 1rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); margin: 0 0 1rem; }
.notice.ok { border-color: var(--ok); }
.notice.error { border-color: var(--alert); background: var(--alert-bg); color: var(--alert-text); }

ul.kpis {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 8.5rem), 1fr)); gap: 0.75rem;
  list-style: none; padding: 0; margin: 0;
}
ul.kpis li {
  min-width: 0; border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem;
  display: flex; flex-direction: column;
}
ul.kpis .value { font-size: 1.6rem; font-weight: 700; }
ul.kpis .label { color: var(--muted); }
ul.kpis li.alert { border-color: var(--alert); background: var(--alert-bg); }
ul.kpis li.alert .value, ul.kpis li.alert .label { color: var(--alert-text); }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); gap: 1rem; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; min-width: 0; }
figure.chart figcaption { font-weight: 600; }
figure.chart svg { width: 100%; height: auto; display: block; }
svg .bar { fill: var(--bar); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis, svg .empty { fill: var(--muted); font-size: 20px; }
details summary { cursor: pointer; color: var(--accent); }

.scroll { position: relative; overflow-x: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; padding: 0.5rem 0.6rem; color: var(--muted); caption-side: top; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-top: 1px solid var(--line); vertical-align: top; }
.scroll th, .scroll td { white-space: nowrap; overflow-wrap: normal; }
thead th { background: var(--panel); font-weight: 600; }
th a { color: var(--text); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.alert td { background: var(--alert-bg); color: var(--alert-text); }
.badge {
  display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.82rem; font-weight: 600;
  border: 1px solid var(--muted); color: var(--text);
}
.badge.alert { background: var(--alert); border-color: var(--alert); color: #fff; }
.badge.ok { border-color: var(--ok); color: var(--ok); }
table.numbers { width: auto; margin-top: 0.5rem; }

.pager { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.5rem 0; }
.hint { border-left: 4px solid var(--alert); padding: 0.4rem 0.8rem; background: var(--panel); margin: 0.5rem 0; }

.connect { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
form.stack { display: flex; flex-direction: column; gap: 0.75rem; max-width: 34rem; }
form.stack label, form.stack .field { display: flex; flex-direction: column; gap: 0.2rem; }
form.stack label { font-weight: 600; }
form.stack label.check { flex-direction: row; align-items: flex-start; gap: 0.5rem; font-weight: 400; }
form.stack .help { font-weight: 400; color: var(--muted); font-size: 0.9rem; }
input[type="text"], input[type="password"], input[type="url"], select {
  font: inherit; padding: 0.45rem 0.55rem; border: 1px solid var(--muted); border-radius: 6px; width: 100%;
  background: var(--bg); color: var(--text);
}
aside.needs { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 1rem; background: var(--panel); }
aside.needs dt { font-weight: 600; margin-top: 0.5rem; }
aside.needs dd { margin: 0.1rem 0 0 0; }
form.inline { display: inline; }
#packs form { margin-top: 0.75rem; }

.login { max-width: 28rem; margin: 10vh auto; padding: 0 1.25rem; }

@media (max-width: 720px) {
  header.top { padding: 0.6rem 0.8rem; }
  header.top form { margin-left: 0; }
  main { padding: 0.75rem 0.8rem 2rem; }
  .connect { grid-template-columns: minmax(0, 1fr); }
}
`;
