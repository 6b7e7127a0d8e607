// `uaccel/http`: require('uaccel/http') is the middleware factory itself,
// as require('compression') is.
import { compression } from './compression';

export = compression;
