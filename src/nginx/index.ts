/** nginx as a data plane: the agent that keeps an nginx in step with the store, its files and its process. */
export { NginxAgent, AGENT_APPLICATION_NAME, type AgentEnvironment, type NginxAgentOptions, type RenderAll } from "./agent.js";
export { ConfigDir } from "./config-dir.js";
export { ChildNginx, NginxStartError, OperatorNginx, DEFAULT_NGINX_BIN, NJS_MODULE, nginxMessage, testGeneration, type NginxControl } from "./process.js";
export { renderAllWith, environmentHost, CLIENT_ADDRESS_HEADER, type EngineLayout } from "./render-all.js";
