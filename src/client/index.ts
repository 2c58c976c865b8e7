export {
  ExchangeError,
  exchange,
  imsBaseUrl,
  type ServiceCredentialsJson,
  type TokenResponse,
} from './exchange.js';
export { TokenManager, type TokenManagerOptions } from './token-manager.js';
