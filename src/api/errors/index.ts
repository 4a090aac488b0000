export {
  WebAPIError,
  type WebAPIErrorInit,
  type WebAPIErrorKind,
  type WebAPIErrorReason,
} from './web-api-error.js';
