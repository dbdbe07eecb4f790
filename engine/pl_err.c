#include "pl_err.h"

const char *pl_strerror(int code) {
  switch (code) {
  case PL_OK: return "ok";
  case PL_ENOMEM: return "out of memory";
  case PL_EINVAL: return "invalid argument";
  case PL_EIO: return "input/output error";
  case PL_ENOTFOUND: return "not found";
  case PL_ETIMEOUT: return "time limit exceeded";
  case PL_ECRASH: return "process crashed";
  case PL_ESANDBOX: return "sandbox unavailable";
  case PL_ECOMPILE: return "compilation failed";
  case PL_ELUA: return "Lua error";
  case PL_EDB: return "database error";
  case PL_ENOSYS: return "not available on this machine";
  case PL_EPROTO: return "protocol error";
  default: return "unknown error";
  }
}
