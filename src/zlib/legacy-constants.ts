// The deprecated top-level constants, declared as @types/node declares them
// for node:zlib so that code using `zlib.Z_SYNC_FLUSH` type-checks unchanged.
// Nothing is emitted here: at run time export-shape.ts copies node's own
// (non-enumerable, read-only) properties onto uaccel's exports.
export declare const Z_NO_FLUSH: number;
export declare const Z_PARTIAL_FLUSH: number;
export declare const Z_SYNC_FLUSH: number;
export declare const Z_FULL_FLUSH: number;
export declare const Z_FINISH: number;
export declare const Z_BLOCK: number;
export declare const Z_TREES: number;
export declare const Z_OK: number;
export declare const Z_STREAM_END: number;
export declare const Z_NEED_DICT: number;
export declare const Z_ERRNO: number;
export declare const Z_STREAM_ERROR: number;
export declare const Z_DATA_ERROR: number;
export declare const Z_MEM_ERROR: number;
export declare const Z_BUF_ERROR: number;
export declare const Z_VERSION_ERROR: number;
export declare const Z_NO_COMPRESSION: number;
export declare const Z_BEST_SPEED: number;
export declare const Z_BEST_COMPRESSION: number;
export declare const Z_DEFAULT_COMPRESSION: number;
export declare const Z_FILTERED: number;
export declare const Z_HUFFMAN_ONLY: number;
export declare const Z_RLE: number;
export declare const Z_FIXED: number;
export declare const Z_DEFAULT_STRATEGY: number;
export declare const Z_BINARY: number;
export declare const Z_TEXT: number;
export declare const Z_ASCII: number;
export declare const Z_UNKNOWN: number;
export declare const Z_DEFLATED: number;
