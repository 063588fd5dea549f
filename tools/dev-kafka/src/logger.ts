export interface DevKafkaLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: DevKafkaLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/** Only warnings and errors: what an embedding process (tests, the stack launcher) wants by default. */
export const quietLogger: DevKafkaLogger = {
  info: () => undefined,
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export const silentLogger: DevKafkaLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
