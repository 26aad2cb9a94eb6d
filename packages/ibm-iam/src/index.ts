export {
  createIbmIamTokenProvider,
  IBM_IAM_APIKEY_GRANT_TYPE,
  IBM_IAM_TOKEN_URL,
  type IamCacheEvent,
  type IbmIamTokenProvider,
  type IbmIamTokenProviderOptions,
} from "./provider.ts";
