export {
  ExchangeError,
  exchange,
  imsBaseUrl,
  type ServiceCredentialsJson,
  type TokenResponse,
} from './exchange.js';
