export type {
  BackendPreference,
  BootstrapConfig,
  Config,
  DeliveryMode,
  KafkaConfig,
  LogLevel,
  ModelConfig,
  RecordFormat,
  RefineConfig,
  SaslMechanism,
  StreamConfig,
} from './config.js';
export type { ConfigEnv, LoadConfigOptions } from './load-config.js';
export { loadConfig } from './load-config.js';
export { redactConfig } from './redact-config.js';
export type { SettingGroup, SettingInfo, SettingName } from './settings.js';
export { helmValueName, settings } from './settings.js';
