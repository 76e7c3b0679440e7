// The bounds and defaults every Corral MCP tool shares: how much output one call returns, how long it waits.

/** Default bytes of output one tool call returns: ~16k tokens, enough for a command's result without flooding a model's context. */
export const MCP_DEFAULT_OUTPUT_BYTES = 64 * 1024;
/** Most a caller may ask for in one call (the REST read's own page size); page on with nextOffset. */
export const MCP_MAX_OUTPUT_BYTES = 1024 * 1024;
/** execute_command's default timeout: long enough for a build step; past it the command keeps running. */
export const MCP_DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/** wait_for's default timeout when the model names none. */
export const MCP_DEFAULT_WAIT_MS = 30_000;
/**
 * prompt_agent's default wait for the turn: under the 60 s request timeout MCP SDK clients apply by default, so the
 * tool answers (timedOut, still busy, with a hint to wait_for) before the client gives up on the call.
 */
export const MCP_DEFAULT_PROMPT_MS = 50_000;
/** Sessions listed by list_sessions / manage_process list by default, and at most (the REST page cap is 1000). */
export const DEFAULT_LIST = 50;
export const MAX_LIST = 200;
/** Sessions scanned to map a pid to its session: recent enough for any pid a model was just told. */
export const PID_SCAN_LIMIT = 500;
