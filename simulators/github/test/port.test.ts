import assert from "node:assert/strict";
import { it } from "node:test";
import { startGithubSimulator } from "@aiaudit/sim-github";
import { TOKEN } from "./helpers.ts";

it("listens on a fixed port when asked, and refuses one already taken", async () => {
  const any = await startGithubSimulator({ tokens: [TOKEN] });
  const port = Number(new URL(any.url).port);
  await any.close();
  const fixed = await startGithubSimulator({ tokens: [TOKEN], port });
  try {
    assert.equal(fixed.url, `http://127.0.0.1:${port}`);
    const res = await fetch(`${fixed.url}/orgs/nobody`, {
      headers: { authorization: `Bearer ${TOKEN}`, "user-agent": "t" },
    });
    assert.equal(res.status, 404);
    await assert.rejects(startGithubSimulator({ tokens: [TOKEN], port }), { code: "EADDRINUSE" });
  } finally {
    await fixed.close();
  }
});
