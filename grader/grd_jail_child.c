/*
 * grd_jail_child.c — the jail, inside: `parlab __jail SO NAME...`.
 *
 * Runs after grd_jail.c has isolated the process and exec'd it. Installs a
 * seccomp filter, loads the student's object (its constructors run here,
 * already sandboxed), resolves each export, then serves calls: arguments
 * arrive over the control socket (fd 3), engine arrays as memfds mapped
 * into this process once and cached, and each call goes through libffi
 * with the signature the lab declared. It never computes a verdict: it
 * only returns what the student's function returned.
 */
#include <dlfcn.h>
#include <errno.h>
#include <ffi.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grd_int.h"
#include "lx.h"
#include "lx_serial.h"
#include "pl_err.h"

#define CTL 3

typedef struct mapped { uint64_t id; void *addr; size_t bytes; } mapped;

static mapped *maps;
static int nmaps, capmaps;

/* Reply header plus payload bytes and descriptors (Lua results). */
static void reply_payload(const char *data, size_t len, const int *fds, int nfds) {
  grd_wire_rep rep;
  memset(&rep, 0, sizeof rep);
  struct iovec iov[2] = {{&rep, sizeof rep}, {(void *)data, len}};
  union { char buf[CMSG_SPACE(sizeof(int) * GRD_MAX_ARGS)]; struct cmsghdr align; } cm;
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
  if (nfds > GRD_MAX_ARGS) nfds = GRD_MAX_ARGS;
  if (nfds > 0) {
    mh.msg_control = cm.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  }
  if (sendmsg(CTL, &mh, MSG_NOSIGNAL) < 0) _exit(0);
}

static void reply(int status, const char *msg) {
  grd_wire_rep rep;
  memset(&rep, 0, sizeof rep);
  rep.status = status;
  if (msg) snprintf(rep.msg, sizeof rep.msg, "%s", msg);
  if (send(CTL, &rep, sizeof rep, MSG_NOSIGNAL) < 0) _exit(0);
}

/* Deny (EPERM) what a submission never needs: network sockets, debugging
 * other processes, mounts, kernel loading, keyrings, namespaces, and
 * signals to the grader or to every process. */
static int install_filter(int netns) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return -1;
  int rc = 0;
  const int deny = SCMP_ACT_ERRNO(EPERM);
  static const int banned[] = {
    SCMP_SYS(ptrace), SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(keyctl), SCMP_SYS(add_key),
    SCMP_SYS(request_key), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(chroot),
    SCMP_SYS(pivot_root), SCMP_SYS(init_module), SCMP_SYS(finit_module),
    SCMP_SYS(delete_module), SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff),
    SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(perf_event_open),
    SCMP_SYS(personality), SCMP_SYS(userfaultfd)};
  for (size_t i = 0; i < sizeof banned / sizeof banned[0] && !rc; i++)
    rc = seccomp_rule_add(ctx, deny, banned[i], 0);
  /* Sockets: only AF_UNIX, whether or not a network namespace exists. */
  if (!rc) rc = seccomp_rule_add(ctx, deny, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
  (void)netns;
  const char *pp = getenv("PARLAB_JAIL_PARENT");
  scmp_datum_t parent = pp ? (scmp_datum_t)strtol(pp, NULL, 10) : 0;
  const scmp_datum_t m32 = 0xffffffffu;
  if (!rc) rc = seccomp_rule_add(ctx, deny, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, m32, m32));
  if (!rc && parent) {
    rc = seccomp_rule_add(ctx, deny, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, m32, parent));
    if (!rc) rc = seccomp_rule_add(ctx, deny, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, m32, parent));
    if (!rc) rc = seccomp_rule_add(ctx, deny, SCMP_SYS(tkill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, m32, parent));
  }
  if (!rc) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc;
}

static ffi_type *ffi_of(grd_type t) {
  switch (t) {
  case GRD_T_VOID: return &ffi_type_void;
  case GRD_T_INT: return &ffi_type_sint;
  case GRD_T_UINT: return &ffi_type_uint;
  case GRD_T_LONG: return &ffi_type_slong;
  case GRD_T_ULONG: return &ffi_type_ulong;
  case GRD_T_I64: return &ffi_type_sint64;
  case GRD_T_FLOAT: return &ffi_type_float;
  case GRD_T_DOUBLE: return &ffi_type_double;
  default: return &ffi_type_pointer;
  }
}

typedef struct export_fn {
  const char *name;
  void *fn;
  grd_sig sig;
  ffi_cif cif;
  ffi_type *atypes[GRD_MAX_ARGS];
} export_fn;

static void *lookup_map(uint64_t id) {
  for (int i = 0; i < nmaps; i++)
    if (maps[i].id == id) return maps[i].addr;
  return NULL;
}

static int add_map(uint64_t id, int fd, size_t bytes, int writable, void **addr) {
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void *p = mmap(NULL, bytes, prot, MAP_SHARED | MAP_POPULATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return -1;
  if (nmaps == capmaps) {
    int cap = capmaps ? capmaps * 2 : 16;
    mapped *m = realloc(maps, sizeof *m * (size_t)cap);
    if (!m) { munmap(p, bytes); return -1; }
    maps = m;
    capmaps = cap;
  }
  maps[nmaps++] = (mapped){id, p, bytes};
  *addr = p;
  return 0;
}

static void set_threads(void *handle, int n) {
  void (*set)(int) = (void (*)(int))dlsym(handle, "omp_set_num_threads");
  if (set && n > 0) set(n);
}

typedef union { int i; unsigned u; long l; unsigned long ul; int64_t i64; float f; double d; void *p; } slot;

static void serve_call(export_fn *ex, int nex, char *msg, size_t len, int *fds, int nfds) {
  grd_wire_req *req = (grd_wire_req *)msg;
  if (req->export_index >= (uint32_t)nex || req->nargs > GRD_MAX_ARGS) {
    reply(PL_EPROTO, "bad request");
    return;
  }
  export_fn *e = &ex[req->export_index];
  if ((int)req->nargs != e->sig.nargs) { reply(PL_EPROTO, "argument count"); return; }
  slot vals[GRD_MAX_ARGS];
  void *argp[GRD_MAX_ARGS];
  int next_fd = 0;
  char *strings = msg + sizeof *req;
  size_t strlen_area = len - sizeof *req;
  for (uint32_t i = 0; i < req->nargs; i++) {
    grd_wire_arg *a = &req->args[i];
    grd_type t = e->sig.args[i];
    argp[i] = &vals[i];
    switch (a->kind) {
    case GRD_A_NULL: vals[i].p = NULL; break;
    case GRD_A_ARRAY: {
      void *p = NULL;
      if (a->new_fd) {
        if (next_fd >= nfds) { reply(PL_EPROTO, "missing descriptor"); return; }
        if (add_map(a->v.id, fds[next_fd++], a->bytes, a->writable, &p)) {
          char m[160];
          snprintf(m, sizeof m, "cannot map a %llu-byte array into the jail: %s",
                   (unsigned long long)a->bytes, strerror(errno));
          reply(PL_ENOMEM, m);
          return;
        }
      } else if (!(p = lookup_map(a->v.id))) {
        reply(PL_EPROTO, "unknown array");
        return;
      }
      vals[i].p = p;
      break;
    }
    case GRD_A_STR:
      if (a->offset + a->bytes >= strlen_area) { reply(PL_EPROTO, "string out of bounds"); return; }
      vals[i].p = strings + a->offset;
      break;
    case GRD_A_INT:
      switch (t) {
      case GRD_T_INT: vals[i].i = (int)a->v.i; break;
      case GRD_T_UINT: vals[i].u = (unsigned)a->v.i; break;
      case GRD_T_LONG: vals[i].l = (long)a->v.i; break;
      case GRD_T_ULONG: vals[i].ul = (unsigned long)a->v.i; break;
      case GRD_T_I64: vals[i].i64 = a->v.i; break;
      case GRD_T_FLOAT: vals[i].f = (float)a->v.i; break;
      case GRD_T_DOUBLE: vals[i].d = (double)a->v.i; break;
      default: reply(PL_EPROTO, "integer for a pointer"); return;
      }
      break;
    case GRD_A_NUM:
      if (t == GRD_T_FLOAT) vals[i].f = (float)a->v.d;
      else if (t == GRD_T_DOUBLE) vals[i].d = a->v.d;
      else { reply(PL_EPROTO, "number for a non-float"); return; }
      break;
    default: reply(PL_EPROTO, "bad argument kind"); return;
    }
  }
  for (; next_fd < nfds; next_fd++) close(fds[next_fd]);
  slot ret;
  memset(&ret, 0, sizeof ret);
  ffi_arg iret = 0;
  void *rp = grd__type_is_int(e->sig.ret) ? (void *)&iret : (void *)&ret;
  ffi_call(&e->cif, FFI_FN(e->fn), rp, argp);
  grd_wire_rep rep;
  memset(&rep, 0, sizeof rep);
  switch (e->sig.ret) {
  case GRD_T_VOID: rep.kind = GRD_A_NULL; break;
  case GRD_T_FLOAT: rep.kind = GRD_A_NUM; rep.v.d = ret.f; break;
  case GRD_T_DOUBLE: rep.kind = GRD_A_NUM; rep.v.d = ret.d; break;
  case GRD_T_INT: rep.kind = GRD_A_INT; rep.v.i = (int)iret; break;
  case GRD_T_UINT: rep.kind = GRD_A_INT; rep.v.i = (unsigned)iret; break;
  default: rep.kind = GRD_A_INT; rep.v.i = (int64_t)iret; break;
  }
  fflush(stdout);
  if (send(CTL, &rep, sizeof rep, MSG_NOSIGNAL) < 0) _exit(0);
}


/* ---- Lua submissions ---- */

/* The student's file runs in a sandboxed state (lx_open): it returns a
 * table of functions, or defines them as globals. */
static lua_State *lua_load_submission(const char *file, int nex, char **names, char *errbuf,
                                      size_t errcap) {
  lua_State *L = NULL;
  lx_limits lim = {.mem_bytes = (size_t)1 << 30};
  if (lx_open(&lim, &L)) {
    snprintf(errbuf, errcap, "cannot create a Lua state");
    return NULL;
  }
  char *err = NULL;
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  /* Messages name the student's file ("job.lua:12:"), not the jail's path. */
  char *text = NULL, chunk[300];
  size_t len = 0;
  FILE *f = fopen(file, "rb");
  if (f) {
    if (fseek(f, 0, SEEK_END) == 0 && (long)(len = (size_t)ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc(len + 1)) && fread(text, 1, len, f) == len)
      text[len] = 0;
    else {
      free(text);
      text = NULL;
    }
    fclose(f);
  }
  snprintf(chunk, sizeof chunk, "@%s", base);
  int lrc = text ? lx_dostring(L, text, chunk, 1, &err) : lx_dofile(L, file, 1, &err);
  free(text);
  if (lrc) {
    /* Show the student's file name, not the scratch path. */
    const char *at = err ? strstr(err, base) : NULL;
    snprintf(errbuf, errcap, "%s", at ? at : (err ? err : "cannot run the submission"));
    free(err);
    lx_close(L);
    return NULL;
  }
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushglobaltable(L);
  }
  for (int i = 0; i < nex; i++) {
    char *colon = strchr(names[i], ':');
    if (colon) *colon = 0;
    lua_getfield(L, -1, names[i]);
    int ok = lua_isfunction(L, -1);
    lua_pop(L, 1);
    if (!ok) {
      snprintf(errbuf, errcap,
               "%s does not define the function %s (return it in a table at the end of the "
               "file, as `return { %s = %s }`)", base, names[i], names[i], names[i]);
      lx_close(L);
      return NULL;
    }
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "parlab.exports");
  return L;
}

static void lua_serve_call(lua_State *L, char **names, int nex, const char *msg, size_t len,
                           int *fds, int nfds) {
  const grd_wire_req *req = (const grd_wire_req *)msg;
  if (req->export_index >= (uint32_t)nex) { reply(PL_EPROTO, "bad request"); return; }
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "parlab.exports");
  lua_getfield(L, -1, names[req->export_index]);
  char *err = NULL;
  int nargs = lx_deserialize(L, msg + sizeof *req, len - sizeof *req, LX_SER_PROCESS, fds, nfds, &err);
  if (nargs < 0) {
    reply(PL_EPROTO, err ? err : "cannot read the arguments");
    free(err);
    lua_settop(L, top);
    return;
  }
  if (lx_pcall(L, nargs, LUA_MULTRET, &err)) {
    reply(PL_ELUA, err ? err : "error");
    free(err);
    lua_settop(L, top);
    return;
  }
  int nres = lua_gettop(L) - top - 1;
  lx_buf b;
  lx_buf_init(&b);
  for (int i = 1; i <= nres; i++) {
    char what[32];
    snprintf(what, sizeof what, "result %d", i);
    if (lx_serialize(L, top + 1 + i, LX_SER_PROCESS, what, &b, &err)) {
      reply(PL_EINVAL, err ? err : "cannot send the result");
      free(err);
      lx_buf_free(&b);
      lua_settop(L, top);
      return;
    }
  }
  if (b.len > GRD_WIRE_MAX) {
    reply(PL_EINVAL, "the result is larger than 64 KiB: return an engine array for bulk data");
  } else {
    fflush(stdout);
    reply_payload(b.data, b.len, b.fds, b.nfds);
  }
  lx_buf_free(&b);
  lua_settop(L, top);
}

int grd_jail_main(int argc, char **argv) {
  /* argv: parlab __jail SO NAME:SIG... */
  if (argc < 3) {
    fprintf(stderr, "parlab __jail is internal: the grader starts it\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_DFL);
  int lua_mode = !strcmp(argv[2], "--lua");
  if (lua_mode) {
    argv++;
    argc--;
  }
  lua_State *LS = NULL;
  if (install_filter(1)) {
    reply(PL_ESANDBOX, "jail set-up failed: cannot install the seccomp filter");
    return 3;
  }
  int nex = argc - 3;
  export_fn *ex = calloc((size_t)(nex > 0 ? nex : 1), sizeof *ex);
  if (!ex) return 4;
  /* HELLO comes first; load only once the grader is listening. */
  char *msg = malloc(GRD_WIRE_MAX);
  if (!msg) return 4;
  void *handle = NULL;
  char errbuf[480];
  int loaded = 0;
  for (;;) {
    union { char buf[CMSG_SPACE(sizeof(int) * GRD_MAX_ARGS)]; struct cmsghdr align; } cm;
    struct iovec iov = {msg, GRD_WIRE_MAX};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                        .msg_controllen = sizeof cm.buf};
    ssize_t n = recvmsg(CTL, &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0) return 0; /* the grader closed the channel */
    int fds[GRD_MAX_ARGS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k && nfds < GRD_MAX_ARGS; i++)
          memcpy(&fds[nfds++], CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof(int));
      }
    }
    if ((size_t)n < sizeof(grd_wire_req)) { reply(PL_EPROTO, "short request"); continue; }
    grd_wire_req *req = (grd_wire_req *)msg;
    if (req->op == GRD_OP_HELLO && lua_mode) {
      if (!loaded && !(LS = lua_load_submission(argv[2], nex, argv + 3, errbuf, sizeof errbuf))) {
        reply(PL_EINVAL, errbuf);
        return 1;
      }
      loaded = 1;
      reply(0, NULL);
    } else if (req->op == GRD_OP_LCALL && lua_mode && loaded) {
      lua_serve_call(LS, argv + 3, nex, msg, (size_t)n, fds, nfds);
    } else if (req->op == GRD_OP_THREADS && lua_mode) {
      char v[16];
      snprintf(v, sizeof v, "%d", req->threads);
      setenv("PARLAB_NUM_THREADS", v, 1);
      reply(0, NULL);
    } else if (req->op == GRD_OP_HELLO) {
      if (loaded) { reply(0, NULL); continue; }
      handle = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        snprintf(errbuf, sizeof errbuf, "cannot load the submission: %s", dlerror());
        reply(PL_EINVAL, errbuf);
        return 1;
      }
      for (int i = 0; i < nex; i++) {
        char *spec = argv[3 + i];
        char *colon = strchr(spec, ':');
        if (!colon) { reply(PL_EPROTO, "bad export spec"); return 1; }
        *colon = 0;
        ex[i].name = spec;
        char *perr = NULL;
        if (grd__sig_parse(colon + 1, &ex[i].sig, &perr)) {
          snprintf(errbuf, sizeof errbuf, "%s", perr ? perr : "bad signature");
          free(perr);
          reply(PL_EINVAL, errbuf);
          return 1;
        }
        dlerror();
        ex[i].fn = dlsym(handle, spec);
        if (!ex[i].fn) {
          snprintf(errbuf, sizeof errbuf,
                   "the submission does not define the function %s (check its name, and that it "
                   "is not static)", spec);
          reply(PL_EINVAL, errbuf);
          return 1;
        }
        for (int k = 0; k < ex[i].sig.nargs; k++) ex[i].atypes[k] = ffi_of(ex[i].sig.args[k]);
        if (ffi_prep_cif(&ex[i].cif, FFI_DEFAULT_ABI, (unsigned)ex[i].sig.nargs,
                         ffi_of(ex[i].sig.ret), ex[i].atypes) != FFI_OK) {
          reply(PL_EINVAL, "libffi cannot prepare this signature");
          return 1;
        }
      }
      loaded = 1;
      reply(0, NULL);
    } else if (req->op == GRD_OP_THREADS) {
      set_threads(handle, req->threads);
      reply(0, NULL);
    } else if (req->op == GRD_OP_CALL && loaded) {
      serve_call(ex, nex, msg, (size_t)n, fds, nfds);
    } else {
      reply(PL_EPROTO, "unknown request");
    }
  }
}
