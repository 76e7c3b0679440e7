// The engine's logging callback: the daemon passes pino, tests collect lines. The engine never imports a logger.

export type LogLevel = 'info' | 'warn' | 'error';
export type EngineLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
