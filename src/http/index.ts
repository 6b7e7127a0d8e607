// `uaccel/http`: require('uaccel/http') is the middleware factory itself,
// as require('compression') is, with the request decoder alongside.
import { compression } from './compression';
import { decompressRequest } from './decompress-request';

const http = Object.assign(compression, { decompressRequest });

export = http;
