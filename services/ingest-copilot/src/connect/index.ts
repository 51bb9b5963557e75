export { probeGithub, explain, type ProbeResult, type ProbeTarget } from "./probe.ts";
export { githubConnection, githubConnectionId, sealContext, type NewConnection } from "./connection.ts";
