/** Settings every ingest-copilot test starts from: the test broker, a topic prefix, one org. */
import { TEST_BROKERS } from "@aiaudit/testing";

export function ingestEnv(
  simUrl: string,
  prefix: string,
  token: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    TENANT_ID: "tenant-a",
    GITHUB_ORG: "acme",
    GITHUB_TOKEN: token,
    GITHUB_API_URL: simUrl,
    PSEUDONYM_KEY: "33".repeat(32),
    ...extra,
  };
}
