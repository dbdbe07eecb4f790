/*
 * grd_run.c — grade one submission: compile, then run every check of the
 * lab in this process's Lua state while the submission runs in jails.
 *
 * Lua sees the jails through a small table of C closures (call,
 * set_threads, timed, reset_elapsed, elapsed) that lab.lua's check context
 * wraps as t.sub / t.baseline. Each check gets fresh jails, started on
 * first use and stopped when the check ends; while one jail is timed the
 * others are frozen (SIGSTOP), so a submission cannot slow the baseline
 * down to fake a speedup.
 */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_array.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "grd_int.h"
#include "lx.h"
#include "lx_engine.h"
#include "lx_serial.h"
#include "pl_err.h"

enum { J_SUB = 0, J_BASE = 1, J_COUNT = 2 };

typedef struct run_ctx {
  const lx_lab *lab;
  const grd_opts *o;
  char *rundir, *builddir;
  char *so[J_COUNT];        /* sub.so, baseline.so (NULL without baseline) */
  char **specs;             /* "name:sig" per export */
  grd_sig *sigs;
  grd_jail *jail[J_COUNT];
  int threads[J_COUNT];     /* requested thread count, sent on start */
  int timed;
  double elapsed;
  double deadline;
  double call_limit;        /* t:limit(); 0: only the check's deadline */
  int fatal;                /* PL_ESANDBOX: refuse to grade */
  char *fatal_msg;
  int njails;
  int lua;                  /* a Lua submission (lab lang "lua") */
  int cuda;                 /* a CUDA submission (lab lang "cuda"), built with nvcc */
  int mpi;                  /* an MPI program (lab lang "mpi"), built with mpicc, run with mpirun */
  int gpu;                  /* a usable CUDA device is present */
  char gpu_why[160];
} run_ctx;

static run_ctx *ctx_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static int which_of(lua_State *L, int idx) {
  const char *w = luaL_checkstring(L, idx);
  if (!strcmp(w, "sub")) return J_SUB;
  if (!strcmp(w, "baseline")) return J_BASE;
  return luaL_error(L, "unknown implementation '%s'", w);
}

/* Raise the crash error object { crash = msg } that run_check reports. */
static int raise_crash(lua_State *L, const char *msg) {
  lua_createtable(L, 0, 1);
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "crash");
  return lua_error(L);
}

static grd_jail *get_jail(lua_State *L, run_ctx *c, int w) {
  if (c->jail[w]) return c->jail[w];
  if (!c->so[w]) luaL_error(L, "this lab has no baseline");
  char *scratch = NULL, *err = NULL, *root = NULL;
  int rc = grd__mkdtemp(c->rundir, w == J_SUB ? "jail" : "base", &scratch);
  if (!rc) rc = grd__mkdtemp(c->rundir, "root", &root);
  if (rc) {
    free(scratch);
    return luaL_error(L, "cannot create a scratch folder: %s", strerror(errno)), NULL;
  }
  if (geteuid() == 0) {
    uid_t u; gid_t g;
    grd__jail_ids(&u, &g);
    if (chown(scratch, u, g) < 0) { free(scratch); luaL_error(L, "cannot hand the scratch folder to the jail user"); }
  }
  chmod(scratch, 0700);
  grd_jail_cfg cfg = {
    .so_path = c->so[w], .lua = c->lua, .scratch = scratch, .newroot = root,
    .ro_dir = c->builddir, .weak = c->o->weak_jail, .gpu = c->cuda && c->gpu, .specs = c->specs, .nexports = c->lab->nexports,
    .cpu_s = (c->deadline - eng_now()) * eng_cores() + 2, .mem_bytes = 0,
    .threads = c->threads[w] > 0 ? c->threads[w] : eng_default_threads(),
    .progress = w == J_SUB ? c->o->progress : NULL, .progress_arg = c->o->progress_arg,
  };
  grd_jail *j = NULL;
  rc = grd__jail_start(&cfg, &j, &err);
  free(scratch);
  free(root);
  c->njails++;
  if (rc == PL_ESANDBOX || rc == PL_ENOMEM) {
    c->fatal = PL_ESANDBOX;
    free(c->fatal_msg);
    c->fatal_msg = err ? err : strdup("the jail could not be set up");
    return luaL_error(L, "%s", c->fatal_msg), NULL;
  }
  if (rc) {
    lua_pushstring(L, err ? err : pl_strerror(rc));
    free(err);
    raise_crash(L, lua_tostring(L, -1));
  }
  c->jail[w] = j;
  return j;
}

static void drop_jails(run_ctx *c) {
  for (int w = 0; w < J_COUNT; w++) {
    grd__jail_free(c->jail[w]);
    c->jail[w] = NULL;
    c->threads[w] = 0;
  }
}

static int export_index(const lx_lab *lab, const char *name) {
  for (int i = 0; i < lab->nexports; i++)
    if (!strcmp(lab->exports[i].name, name)) return i;
  return -1;
}

/* The deadline for the next jail request. */
static double call_deadline(const run_ctx *c) {
  double d = c->deadline;
  if (c->call_limit > 0 && eng_now() + c->call_limit < d) d = eng_now() + c->call_limit;
  return d;
}

/* Send a request, freezing the other jails while a timed one runs. On a
 * crash the jail is dropped and the crash error is raised. */
static void request(lua_State *L, run_ctx *c, int w, grd_jail *j, const char *name,
                    const grd_wire_req *req, size_t len, const int *fds, int nfds,
                    grd_wire_rep *rep) {
  double secs = 0;
  char *err = NULL;
  for (int k = 0; k < J_COUNT; k++)
    if (c->timed && k != w) grd__jail_stop(c->jail[k], 1);
  int rc = grd__jail_request(j, req, len, fds, nfds, call_deadline(c), rep, &secs, &err);
  for (int k = 0; k < J_COUNT; k++)
    if (k != w) grd__jail_stop(c->jail[k], 0);
  if (rc) {
    grd__jail_free(j);
    c->jail[w] = NULL;
    char *m = NULL;
    if (asprintf(&m, "%s(): %s", name, err ? err : pl_strerror(rc)) < 0) m = NULL;
    free(err);
    lua_pushstring(L, m ? m : "the submission crashed");
    free(m);
    raise_crash(L, lua_tostring(L, -1));
  }
  if (rep->status) {
    /* The submission's own Lua error: already "file:line: message". */
    if (rep->status == PL_ELUA) raise_crash(L, rep->msg);
    lua_pushfstring(L, "%s(): %s", name, rep->msg);
    raise_crash(L, lua_tostring(L, -1));
  }
  c->elapsed += secs;
}

/* A call into a Lua submission: arguments and results copied with
 * lx_serial; engine arrays travel as sealed (read-only) memfds. */
static int lua_call_export(lua_State *L, run_ctx *c, int w, const char *name, int ei) {
  grd_jail *j = get_jail(L, c, w);
  static char msgbuf[sizeof(grd_wire_req) + GRD_WIRE_MAX];
  grd_wire_req *req = (grd_wire_req *)msgbuf;
  memset(req, 0, sizeof *req);
  req->op = GRD_OP_LCALL;
  req->export_index = (uint32_t)ei;
  int top = lua_gettop(L);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  for (int i = 3; i <= top; i++) {
    eng_array *arr = lx_toarray(L, i);
    if (arr && eng_array_len(arr) > 0 && !eng_array_is_sealed(arr) && eng_array_seal(arr))
      return luaL_error(L, "%s: cannot make argument %d read-only", name, i - 2);
    char what[32];
    snprintf(what, sizeof what, "argument %d", i - 2);
    if (lx_serialize(L, i, LX_SER_PROCESS, what, &b, &err)) {
      lua_pushfstring(L, "%s: %s", name, err ? err : "cannot copy an argument");
      free(err);
      lx_buf_free(&b);
      return lua_error(L);
    }
  }
  if (b.len > GRD_WIRE_MAX || b.nfds > GRD_MAX_ARGS) {
    lx_buf_free(&b);
    return luaL_error(L, "%s: arguments larger than 64 KiB (pass bulk data as engine arrays)", name);
  }
  memcpy(msgbuf + sizeof *req, b.data, b.len);
  size_t len = sizeof *req + b.len;
  int fds[GRD_MAX_ARGS], nfds = b.nfds;
  memcpy(fds, b.fds, sizeof(int) * (size_t)nfds);
  lx_buf_free(&b);
  grd_wire_rep rep;
  request(L, c, w, j, name, req, len, fds, nfds, &rep);
  size_t plen;
  const char *payload = grd__jail_payload(j, &plen);
  int nrfds;
  const int *rfds = grd__jail_payload_fds(j, &nrfds);
  lua_settop(L, top);
  /* Never load a function the jail sends: its bytecode is untrusted. */
  int n = lx_deserialize(L, payload, plen, LX_SER_PROCESS | LX_SER_NO_FUNCTIONS, rfds, nrfds, &err);
  if (n < 0) {
    lua_pushfstring(L, "%s(): %s", name, err ? err : "cannot read the results");
    free(err);
    return raise_crash(L, lua_tostring(L, -1));
  }
  return n;
}

/* jail.call(which, name, ...) */
static int l_call(lua_State *L) {
  run_ctx *c = ctx_of(L);
  int w = which_of(L, 1);
  const char *name = luaL_checkstring(L, 2);
  int ei = export_index(c->lab, name);
  if (ei < 0) return luaL_error(L, "'%s' is not among this lab's exports", name);
  if (c->lua) return lua_call_export(L, c, w, name, ei);
  if (c->mpi) return luaL_error(L, "an MPI lab runs whole programs: use t:mpirun{ ranks = N, args = {...} }");
  const grd_sig *sig = &c->sigs[ei];
  int given = lua_gettop(L) - 2;
  if (given != sig->nargs)
    return luaL_error(L, "%s expects %d argument%s, got %d", name, sig->nargs,
                      sig->nargs == 1 ? "" : "s", given);
  grd_jail *j = get_jail(L, c, w);
  static char msgbuf[GRD_WIRE_MAX];
  grd_wire_req *req = (grd_wire_req *)msgbuf;
  memset(req, 0, sizeof *req);
  req->op = GRD_OP_CALL;
  req->export_index = (uint32_t)ei;
  req->nargs = (uint32_t)sig->nargs;
  size_t strs = 0, strcap = GRD_WIRE_MAX - sizeof *req;
  int fds[GRD_MAX_ARGS], nfds = 0;
  for (int i = 0; i < sig->nargs; i++) {
    int idx = 3 + i;
    grd_type t = sig->args[i];
    grd_wire_arg *a = &req->args[i];
    if (t == GRD_T_STR) {
      size_t len;
      const char *s = luaL_checklstring(L, idx, &len);
      if (strs + len + 1 > strcap) return luaL_error(L, "%s: string argument %d too long", name, i + 1);
      a->kind = GRD_A_STR;
      a->offset = strs;
      a->bytes = len;
      memcpy(msgbuf + sizeof *req + strs, s, len + 1);
      strs += len + 1;
    } else if (grd__type_is_ptr(t)) {
      if (lua_isnil(L, idx)) { a->kind = GRD_A_NULL; continue; }
      eng_array *arr = lx_toarray(L, idx);
      if (!arr) return luaL_error(L, "%s: argument %d must be an engine array (%s)", name, i + 1, grd__type_name(t));
      eng_dtype want = t == GRD_T_PTR_F64 ? ENG_F64 : t == GRD_T_PTR_F32 ? ENG_F32 : ENG_I64;
      if (eng_array_dtype(arr) != want)
        return luaL_error(L, "%s: argument %d is an %s array, the signature wants %s", name, i + 1,
                          eng_dtype_name(eng_array_dtype(arr)), grd__type_name(t));
      if (eng_array_len(arr) == 0) { a->kind = GRD_A_NULL; continue; }
      if (sig->is_const[i]) {
        /* The grader keeps writing through its own mapping; the jail can
         * only ever map these pages read-only. */
        if (!eng_array_is_sealed(arr) && eng_array_seal(arr))
          return luaL_error(L, "%s: cannot make argument %d read-only", name, i + 1);
      } else if (eng_array_is_sealed(arr)) {
        return luaL_error(L, "%s: argument %d is writable here but was passed as const input "
                             "before; give outputs a fresh array", name, i + 1);
      }
      a->kind = GRD_A_ARRAY;
      a->v.id = eng_array_id(arr);
      a->bytes = eng_array_bytes(arr);
      a->writable = !sig->is_const[i];
      if (!grd__jail_knows_array(j, a->v.id)) {
        a->new_fd = 1;
        fds[nfds++] = eng_array_fd(arr);
      }
    } else {
      int isnum = 0;
      if (t == GRD_T_FLOAT || t == GRD_T_DOUBLE) {
        lua_Number v = lua_tonumberx(L, idx, &isnum);
        if (!isnum) return luaL_error(L, "%s: argument %d must be a number", name, i + 1);
        a->kind = GRD_A_NUM;
        a->v.d = v;
      } else {
        lua_Integer v = lua_tointegerx(L, idx, &isnum);
        if (!isnum) return luaL_error(L, "%s: argument %d must be a whole number (%s)", name, i + 1,
                                      grd__type_name(t));
        a->kind = GRD_A_INT;
        a->v.i = v;
      }
    }
  }
  grd_wire_rep rep;
  request(L, c, w, j, name, req, sizeof *req + strs, fds, nfds, &rep);
  switch (rep.kind) {
  case GRD_A_INT: lua_pushinteger(L, rep.v.i); return 1;
  case GRD_A_NUM: lua_pushnumber(L, rep.v.d); return 1;
  default: return 0;
  }
}

/* jail.set_threads(which, n) */
static int l_set_threads(lua_State *L) {
  run_ctx *c = ctx_of(L);
  int w = which_of(L, 1);
  int n = (int)luaL_checkinteger(L, 2);
  if (n < 1 || n > 1024) return luaL_error(L, "set_threads: %d threads is out of range", n);
  grd_jail *j = get_jail(L, c, w);
  if (c->threads[w] == n) return 0;
  grd_wire_req req = {.op = GRD_OP_THREADS, .threads = n};
  grd_wire_rep rep;
  double secs;
  char *err = NULL;
  if (grd__jail_request(j, &req, sizeof req, NULL, 0, c->deadline, &rep, &secs, &err)) {
    grd__jail_free(j);
    c->jail[w] = NULL;
    lua_pushstring(L, err ? err : "the submission crashed");
    free(err);
    return raise_crash(L, lua_tostring(L, -1));
  }
  c->threads[w] = n;
  return 0;
}

static int l_set_call_limit(lua_State *L) {
  ctx_of(L)->call_limit = luaL_checknumber(L, 1);
  return 0;
}

/* jail.mpirun(which, ranks, {args}, timeout) -> status, signal, output, seconds
 * Runs the built program under mpirun inside the sandbox (its own pid,
 * mount and network namespaces, only loopback up), in a fresh scratch
 * folder. The wall time is measured here. */
static int l_mpirun(lua_State *L) {
  run_ctx *c = ctx_of(L);
  int w = which_of(L, 1);
  int ranks = (int)luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  double limit = luaL_optnumber(L, 4, 0);
  if (!c->mpi) return luaL_error(L, "t:mpirun is for MPI labs (submission.lang = \"mpi\")");
  if (!c->so[w]) return luaL_error(L, "this lab has no baseline");
  if (ranks < 1 || ranks > 64) return luaL_error(L, "mpirun: ranks must be 1..64, got %d", ranks);
  int nargs = (int)luaL_len(L, 3);
  if (nargs > 64) return luaL_error(L, "mpirun: at most 64 arguments");
  char np[16];
  snprintf(np, sizeof np, "%d", ranks);
  char *argv[96];
  int a = 0;
  static char *const fixed[] = {"mpirun", "--oversubscribe", "--bind-to", "none", "--tag-output",
                                "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism",
                                "none", "-np"};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[a++] = fixed[i];
  argv[a++] = np;
  argv[a++] = c->so[w];
  for (int i = 1; i <= nargs; i++) {
    lua_geti(L, 3, i);
    argv[a++] = (char *)luaL_checkstring(L, -1); /* stays on the stack */
  }
  argv[a] = NULL;
  char *scratch = NULL, *root = NULL;
  if (grd__mkdtemp(c->rundir, "mpi", &scratch) || grd__mkdtemp(c->rundir, "root", &root)) {
    free(scratch);
    return luaL_error(L, "cannot create a scratch folder: %s", strerror(errno));
  }
  if (geteuid() == 0) {
    uid_t u; gid_t g;
    grd__jail_ids(&u, &g);
    if (chown(scratch, u, g) < 0) { free(scratch); free(root); return luaL_error(L, "cannot prepare the scratch folder"); }
  }
  char home[4200];
  snprintf(home, sizeof home, "HOME=%s", scratch);
  char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "TMPDIR=/tmp", home,
                 "OMPI_MCA_plm_rsh_agent=false", "OMPI_MCA_rmaps_base_oversubscribe=1",
                 "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  double deadline = call_deadline(c);
  double wall = deadline - eng_now();
  if (limit > 0 && limit < wall) wall = limit;
  grd_prog_spec spec = {.argv = argv, .envp = env, .rw_dir = scratch, .ro_dir = c->builddir,
                        .cwd = scratch, .newroot = root, .weak = c->o->weak_jail, .net_lo = 1,
                        .wall_s = wall > 0.1 ? wall : 0.1, .cpu_s = wall * (ranks + 1) + 2,
                        .mem_bytes = (size_t)8 << 30, .out_cap = 1 << 20};
  grd_proc_out po;
  double t0 = eng_now();
  if (c->timed) for (int k = 0; k < J_COUNT; k++) grd__jail_stop(c->jail[k], 1);
  int rc = grd__run_program(&spec, &po);
  double secs = eng_now() - t0;
  for (int k = 0; k < J_COUNT; k++) grd__jail_stop(c->jail[k], 0);
  free(scratch);
  free(root);
  if (rc == PL_ESANDBOX) {
    c->fatal = PL_ESANDBOX;
    free(c->fatal_msg);
    c->fatal_msg = po.output ? strdup(po.output) : strdup("the MPI sandbox could not be set up");
    free(po.output);
    return luaL_error(L, "%s", c->fatal_msg);
  }
  if (rc) return luaL_error(L, "mpirun could not be started: %s", pl_strerror(rc));
  c->elapsed += secs;
  lua_pushinteger(L, po.exited ? po.status : -1);
  if (po.timed_out) lua_pushliteral(L, "time limit");
  else if (po.signaled) lua_pushliteral(L, "signal");
  else lua_pushnil(L);
  lua_pushstring(L, po.output ? po.output : "");
  lua_pushnumber(L, secs);
  free(po.output);
  return 4;
}

static int l_timed(lua_State *L) { ctx_of(L)->timed = lua_toboolean(L, 1); return 0; }
static int l_reset_elapsed(lua_State *L) { ctx_of(L)->elapsed = 0; return 0; }
static int l_elapsed(lua_State *L) { lua_pushnumber(L, ctx_of(L)->elapsed); return 1; }

static const luaL_Reg jail_funcs[] = {
  {"call", l_call}, {"set_threads", l_set_threads}, {"timed", l_timed},
  {"reset_elapsed", l_reset_elapsed}, {"elapsed", l_elapsed},
  {"set_call_limit", l_set_call_limit}, {"mpirun", l_mpirun}, {NULL, NULL}};

/* ---------------------------------------------------------------- results */

static int add_diag(grd_result *r, const char *line) {
  char **d = realloc(r->diagnostics, sizeof *d * (size_t)(r->ndiagnostics + 1));
  if (!d) return PL_ENOMEM;
  r->diagnostics = d;
  if (!(d[r->ndiagnostics] = strdup(line))) return PL_ENOMEM;
  r->ndiagnostics++;
  return 0;
}

static void add_diag_lines(grd_result *r, const char *text) {
  const char *p = text;
  while (*p) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *line = strndup(p, n);
    if (line && *line) add_diag(r, line);
    free(line);
    if (!e) break;
    p = e + 1;
  }
}

static void emit(const grd_opts *o, grd_event ev) {
  if (o->progress) o->progress(o->progress_arg, &ev);
}

static int copy_file(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb");
  if (!in) return PL_ENOTFOUND;
  FILE *f = fopen(dst, "wb");
  if (!f) { fclose(in); return PL_EIO; }
  char buf[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, f) != n) rc = PL_EIO;
  fclose(in);
  if (fclose(f)) rc = PL_EIO;
  chmod(dst, 0644);
  return rc;
}

/* A tool run in the sandbox, with a fresh root folder for it. A sandbox
 * that cannot be set up makes grading refuse (PL_ESANDBOX). */
static int run_tool(run_ctx *c, char **argv, double wall_s, grd_proc_out *po) {
  char *root = NULL;
  int rc = grd__mkdtemp(c->rundir, "croot", &root);
  if (rc) return rc;
  /* mpicc probes the network interfaces: give it a loopback to find. */
  grd_prog_spec spec = {.argv = argv, .rw_dir = c->builddir, .cwd = c->builddir, .newroot = root,
                        .weak = c->o->weak_jail, .net_lo = c->mpi, .wall_s = wall_s,
                        .cpu_s = wall_s / 2 + 1, .mem_bytes = (size_t)2 << 30, .out_cap = 64 * 1024};
  rc = grd__run_program(&spec, po);
  free(root);
  if (rc == PL_ESANDBOX) {
    free(c->fatal_msg);
    c->fatal_msg = po->output ? strdup(po->output) : strdup("the compiler's sandbox could not be set up");
    if (c->fatal_msg) c->fatal_msg[strcspn(c->fatal_msg, "\n")] = 0;
    c->fatal = PL_ESANDBOX;
    free(po->output);
    po->output = NULL;
  }
  return rc;
}

/* Compile src (copied into builddir as `name`) into builddir/out. */
static int compile(run_ctx *c, const char *src, const char *name, const char *out,
                   grd_result *r, int is_student) {
  const lx_lab *lab = c->lab;
  char *dst = NULL, *so = NULL;
  int rc = PL_ENOMEM;
  if (asprintf(&dst, "%s/%s", c->builddir, name) < 0) { dst = NULL; goto done; }
  if (asprintf(&so, "%s/%s", c->builddir, out) < 0) { so = NULL; goto done; }
  if ((rc = copy_file(src, dst))) goto done;
  /* Lab support files are copied in too: the compiler's sandbox sees only
   * the build folder, never the lab folder. */
  for (int i = 0; i < lab->nsupport; i++) {
    const char *base = strrchr(lab->support[i], '/');
    char *sdst = NULL;
    if (asprintf(&sdst, "%s/%s", c->builddir, base ? base + 1 : lab->support[i]) < 0) {
      rc = PL_ENOMEM;
      goto done;
    }
    rc = copy_file(lab->support[i], sdst);
    free(sdst);
    if (rc) goto done;
  }
  if (c->lua) {
    /* A Lua "compile" parses the file in a limited child (nothing runs). */
    /* Inside the sandbox /proc/self/exe is this very binary. */
    char *argvl[] = {"/proc/self/exe", "__luacheck", (char *)name, NULL};
    grd_proc_out po;
    rc = run_tool(c, argvl, 20.0, &po);
    if (rc) goto done;
    if (po.output && *po.output) add_diag_lines(r, po.output);
    rc = po.exited && po.status == 0 ? 0 : PL_ECOMPILE;
    free(po.output);
    chmod(dst, 0644);
    if (rc == 0) {
      free(so);
      so = dst;
      dst = NULL;
    }
    goto done;
  }
  const char *cc = getenv(c->cuda ? "PARLAB_NVCC" : c->mpi ? "PARLAB_MPICC" : "PARLAB_CC");
  if (c->cuda && !(cc && *cc)) cc = access("/usr/local/cuda/bin/nvcc", X_OK) == 0 ? "/usr/local/cuda/bin/nvcc" : "nvcc";
  if (c->mpi && !(cc && *cc)) cc = "mpicc";
  int argc = 0;
  char **argv = calloc((size_t)(lab->ncflags + lab->nldflags + lab->nsupport + 10), sizeof *argv);
  if (!argv) goto done;
  argv[argc++] = (char *)(cc && *cc ? cc : "cc");
  for (int i = 0; i < lab->ncflags; i++) argv[argc++] = lab->cflags[i];
  if (c->cuda) {
    argv[argc++] = "-Xcompiler";
    argv[argc++] = "-fPIC";
    argv[argc++] = "-shared";
  } else if (!c->mpi) {
    /* MPI labs build a program (with main); everything else a library. */
    argv[argc++] = "-fPIC";
    argv[argc++] = "-shared";
  }
  argv[argc++] = "-o";
  argv[argc++] = (char *)out;
  argv[argc++] = (char *)name;
  for (int i = 0; i < lab->nsupport; i++) {
    /* Headers are copied next to the sources but not compiled on their own. */
    const char *base = strrchr(lab->support[i], '/');
    base = base ? base + 1 : lab->support[i];
    size_t bl = strlen(base);
    if (bl > 2 && !strcmp(base + bl - 2, ".h")) continue;
    argv[argc++] = (char *)base;
  }
  for (int i = 0; i < lab->nldflags; i++) argv[argc++] = lab->ldflags[i];
  argv[argc] = NULL;
  grd_proc_out po;
  rc = run_tool(c, argv, 60.0, &po);
  free(argv);
  if (rc) goto done;
  if (is_student && po.output && *po.output) add_diag_lines(r, po.output);
  if (po.timed_out) {
    if (is_student) add_diag(r, "the compiler ran past its 60 s limit and was stopped");
    rc = PL_ECOMPILE;
  } else if (!po.exited || po.status != 0) {
    if (!is_student && po.output) add_diag_lines(r, po.output);
    rc = PL_ECOMPILE;
  } else {
    chmod(so, c->mpi ? 0755 : 0644);
    rc = 0;
  }
  free(po.output);
done:
  free(dst);
  if (rc == 0) c->so[is_student ? J_SUB : J_BASE] = so;
  else free(so);
  return rc;
}

static grd_check_result *result_for(grd_result *r, int i) { return &r->checks[i]; }

int grd_gpu_present(char *why, size_t why_len) {
  const char *no = getenv("PARLAB_NO_GPU");
  const char *reason = NULL;
  if (no && *no && strcmp(no, "0")) reason = "no CUDA device: PARLAB_NO_GPU is set";
  else if (access("/dev/nvidiactl", F_OK) || access("/dev/nvidia0", F_OK))
    reason = "no CUDA device: /dev/nvidia0 not found — this machine has no NVIDIA GPU or driver";
  if (why && why_len) snprintf(why, why_len, "%s", reason ? reason : "");
  return reason == NULL;
}

/* Timed checks never run concurrently with other timed checks on this
 * machine (DESIGN.md §5): a batch with --jobs N, a second batch and a
 * student's TUI all take this lock around a timed check. Returns the
 * locked descriptor, or -1 when no lock could be had (timing still runs). */
static int timed_lock(const char *root) {
  char path[4096];
  snprintf(path, sizeof path, "%s/parlab-timed.lock", root);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  fchmod(fd, 0666);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) { close(fd); return -1; }
  return fd;
}

static int setup_result(const lx_lab *lab, const grd_opts *o, grd_result **out) {
  grd_result *r = calloc(1, sizeof *r);
  if (!r) return PL_ENOMEM;
  r->lab = strdup(lab->id);
  r->submission = strdup(o->submission);
  r->nchecks = lab->nchecks;
  r->checks = calloc((size_t)lab->nchecks, sizeof *r->checks);
  r->sub_hash = malloc(65);
  if (!r->lab || !r->submission || !r->checks || !r->sub_hash) {
    grd_result_free(r);
    return PL_ENOMEM;
  }
  r->max_score = 0;
  for (int i = 0; i < lab->nchecks; i++) {
    grd_check_result *cr = &r->checks[i];
    cr->name = strdup(lab->checks[i].name);
    cr->hidden = lab->checks[i].hidden;
    cr->max_score = lab->checks[i].points;
    cr->message = strdup("");
    r->max_score += cr->max_score;
  }
  *out = r;
  return 0;
}

static void set_message(grd_check_result *cr, const char *msg) {
  free(cr->message);
  cr->message = strdup(msg ? msg : "");
}

/* Copy t.figures (set by t:scaling in lib/lab.lua) into cr: the points
 * the TUI charts. t is at stack index `t`. */
static void read_figures(lua_State *L, int t, grd_check_result *cr) {
  cr->npoints = 0;
  cr->baseline_s = 0;
  lua_getfield(L, t, "figures");
  if (lua_istable(L, -1)) {
    int f = lua_gettop(L);
    lua_getfield(L, f, "baseline");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "median");
      cr->baseline_s = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    lua_getfield(L, f, "threads");
    lua_getfield(L, f, "times");
    if (lua_istable(L, -2) && lua_istable(L, -1)) {
      int n = (int)luaL_len(L, -2);
      for (int k = 1; k <= n && cr->npoints < 8; k++) {
        lua_geti(L, -2, k);
        lua_Integer p = lua_tointeger(L, -1);
        lua_gettable(L, -2); /* times[p] */
        if (lua_istable(L, -1)) {
          lua_getfield(L, -1, "median");
          cr->threads[cr->npoints] = (double)p;
          cr->times[cr->npoints] = lua_tonumber(L, -1);
          if (p > 0 && cr->times[cr->npoints] > 0) cr->npoints++;
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

/* Copy t.roofline_figure (set by t:roofline in lib/lab.lua, which checked
 * it) into cr, replacing a figure from an earlier attempt. Plain tables,
 * numbers and strings only: nothing here runs Lua code. */
static void read_roofline(lua_State *L, int t, grd_check_result *cr) {
  grd_roofline_free(cr->roofline);
  cr->roofline = NULL;
  int top = lua_gettop(L);
  grd_roofline *fig = NULL;
  lua_getfield(L, t, "roofline_figure");
  if (!lua_istable(L, -1) || !(fig = calloc(1, sizeof *fig))) goto done;
  int f = lua_gettop(L);
  lua_getfield(L, f, "title");
  fig->title = strdup(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
  lua_getfield(L, f, "peak");
  fig->peak_gflops = lua_tonumber(L, -1);
  lua_getfield(L, f, "bw");
  fig->bw_gbs = lua_tonumber(L, -1);
  lua_getfield(L, f, "kernels");
  int ks = lua_gettop(L), n = lua_istable(L, ks) ? (int)lua_rawlen(L, ks) : 0;
  if (n > GRD_ROOF_MAX_KERNELS) n = GRD_ROOF_MAX_KERNELS;
  if (!fig->title || (n > 0 && !(fig->kernels = calloc((size_t)n, sizeof *fig->kernels)))) goto done;
  for (int k = 1; k <= n; k++) {
    lua_settop(L, ks);
    if (lua_rawgeti(L, ks, k) != LUA_TTABLE) continue;
    grd_roof_kernel *rk = &fig->kernels[fig->nkernels++];
    lua_getfield(L, ks + 1, "name");
    rk->name = strdup(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
    lua_getfield(L, ks + 1, "ai");
    rk->ai = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    lua_getfield(L, ks + 1, "measured");
    rk->measured = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    lua_getfield(L, ks + 1, "predicted");
    rk->predicted = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    if (!rk->name) goto done;
  }
  cr->roofline = fig;
  fig = NULL;
done:
  lua_settop(L, top);
  grd_roofline_free(fig);
}

/* Run check i (Lua: checks[i]) once; returns its status string's first
 * letter: 'p'ass, 'f'ail, 'c'rash, 'e'rror. */
static int run_check_once(lua_State *L, run_ctx *c, int def_ref, int jail_ref, int i,
                          grd_check_result *cr) {
  const lx_check_info *ci = &c->lab->checks[i];
  c->deadline = eng_now() + ci->timeout_s;
  c->timed = 0;
  c->elapsed = 0;
  c->call_limit = 0;
  lx_set_deadline(L, ci->timeout_s + 1.0);
  int top = lua_gettop(L);
  lua_getglobal(L, "__parlab");
  lua_getfield(L, -1, "run_check");
  lua_rawgeti(L, LUA_REGISTRYINDEX, def_ref);
  lua_getfield(L, -1, "checks");
  lua_rawgeti(L, -1, i + 1);       /* the check */
  lua_getfield(L, top + 1, "new_context");
  lua_rawgeti(L, LUA_REGISTRYINDEX, def_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, jail_ref);
  lua_pushboolean(L, c->so[J_BASE] != NULL);
  char *err = NULL;
  int status = 'e';
  if (lx_pcall(L, 3, 1, &err)) {     /* t = new_context(def, jail, has_base) */
    set_message(cr, err);
    free(err);
    goto done;
  }
  /* stack: __parlab run_check def checks check t */
  lua_remove(L, top + 4);            /* checks */
  lua_remove(L, top + 3);            /* def */
  /* stack: __parlab run_check check t; keep t for its figures */
  lua_pushvalue(L, top + 4);
  lua_insert(L, top + 2);
  if (lx_pcall(L, 2, 2, &err)) {
    /* Only the time limit or the memory cap reach here: run_check itself
     * catches errors raised by the check. */
    set_message(cr, err);
    free(err);
    goto done;
  }
  const char *st = lua_tostring(L, -2), *msg = lua_tostring(L, -1);
  set_message(cr, msg);
  status = st ? st[0] : 'e';
  read_figures(L, top + 2, cr);
  read_roofline(L, top + 2, cr);
done:
  lx_set_deadline(L, 0);
  lua_settop(L, top);
  drop_jails(c);
  lua_gc(L, LUA_GCCOLLECT); /* free this check's arrays now */
  return status;
}

int grd_run(const lx_lab *lab, const grd_opts *o, grd_result **out, char **err) {
  *out = NULL;
  *err = NULL;
  run_ctx c = {.lab = lab, .o = o, .lua = lab->lang && !strcmp(lab->lang, "lua"),
               .cuda = lab->lang && !strcmp(lab->lang, "cuda"),
               .mpi = lab->lang && !strcmp(lab->lang, "mpi")};
  c.gpu = grd_gpu_present(c.gpu_why, sizeof c.gpu_why);
  grd_result *r = NULL;
  lua_State *L = NULL;
  int rc, def_ref = LUA_NOREF, jail_ref = LUA_NOREF;
  double t0 = eng_now();
  struct stat st;
  if (!o->submission || stat(o->submission, &st) || !S_ISREG(st.st_mode)) {
    if (asprintf(err, "%s: no such submission file", o->submission ? o->submission : "(none)") < 0)
      *err = NULL;
    return PL_ENOTFOUND;
  }
  if ((rc = setup_result(lab, o, &r))) return rc;
  if (grd_hash_file(o->submission, r->sub_hash)) strcpy(r->sub_hash, "");

  /* Signatures, parsed once here; the jail parses its own copy. */
  c.sigs = calloc((size_t)(lab->nexports + 1), sizeof *c.sigs);
  c.specs = calloc((size_t)(lab->nexports + 1), sizeof *c.specs);
  if (!c.sigs || !c.specs) { rc = PL_ENOMEM; goto done; }
  for (int i = 0; i < lab->nexports; i++) {
    char *perr = NULL;
    if (c.lua) {
      if (strcmp(lab->exports[i].sig, "lua")) {
        if (asprintf(err, "%s/lab.lua: export %s: a Lua lab's exports are declared as \"lua\"",
                     lab->dir, lab->exports[i].name) < 0)
          *err = NULL;
        rc = PL_ELUA;
        goto done;
      }
    } else if (grd__sig_parse(lab->exports[i].sig, &c.sigs[i], &perr)) {
      if (asprintf(err, "%s/lab.lua: export %s: %s", lab->dir, lab->exports[i].name, perr) < 0) *err = NULL;
      free(perr);
      rc = PL_ELUA;
      goto done;
    }
    if (asprintf(&c.specs[i], "%s:%s", lab->exports[i].name, lab->exports[i].sig) < 0) {
      rc = PL_ENOMEM;
      goto done;
    }
  }

  const char *root = o->scratch_root ? o->scratch_root : getenv("TMPDIR");
  if (!root || !*root) root = "/tmp";
  if ((rc = grd__mkdtemp(root, "parlab-run", &c.rundir))) {
    if (asprintf(err, "cannot create a scratch folder in %s: %s", root, strerror(errno)) < 0) *err = NULL;
    goto done;
  }
  if (asprintf(&c.builddir, "%s/build", c.rundir) < 0 || mkdir(c.builddir, 0711)) {
    rc = PL_EIO;
    goto done;
  }
  if (geteuid() == 0) {
    /* The compiler runs as the jail user and writes here. */
    uid_t u;
    gid_t g;
    grd__jail_ids(&u, &g);
    if (chown(c.builddir, u, g) < 0) { rc = PL_EIO; goto done; }
  }
  r->weak_jail = o->weak_jail;

  emit(o, (grd_event){.kind = GRD_EV_COMPILE_START, .total = lab->nchecks});
  rc = compile(&c, o->submission, lab->sub_file, c.mpi ? "sub" : "sub.so", r, 1);
  if (c.fatal) {
    rc = c.fatal;
    *err = c.fatal_msg;
    c.fatal_msg = NULL;
    goto done;
  }
  r->compiled = rc == 0;
  emit(o, (grd_event){.kind = GRD_EV_COMPILE_DONE, .ok = r->compiled, .total = lab->nchecks});
  if (rc && rc != PL_ECOMPILE) goto done;
  if (lab->baseline && r->compiled) {
    rc = compile(&c, lab->baseline, c.lua ? "baseline.lua" : c.cuda ? "baseline.cu" : "baseline.c",
                 c.mpi ? "baseline" : "baseline.so", r, 0);
    if (rc) {
      if (asprintf(err, "%s: the lab's baseline does not compile:\n%s", lab->baseline,
                   r->ndiagnostics ? r->diagnostics[r->ndiagnostics - 1] : "") < 0)
        *err = NULL;
      rc = PL_ELUA;
      goto done;
    }
  }
  rc = 0;
  if (!r->compiled) {
    for (int i = 0; i < r->nchecks; i++) {
      set_message(&r->checks[i], "not run: the submission does not compile (see the compiler output)");
      emit(o, (grd_event){.kind = GRD_EV_CHECK_DONE, .index = i, .total = r->nchecks,
                          .name = r->checks[i].name, .check = &r->checks[i]});
    }
    goto done;
  }

  /* The grader's own state: the lab definition with its check functions. */
  if ((rc = lx_open(&(lx_limits){.mem_bytes = (size_t)1 << 30}, &L))) goto done;
  char *path = NULL;
  if (asprintf(&path, "%s/lab.lua", lab->dir) < 0) { rc = PL_ENOMEM; goto done; }
  rc = lx_dofile(L, path, 1, err);
  free(path);
  if (rc) goto done;
  def_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  luaL_newlibtable(L, jail_funcs);
  lua_pushlightuserdata(L, &c);
  luaL_setfuncs(L, jail_funcs, 1);
  jail_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  int tries_timed = o->timed_attempts > 0 ? o->timed_attempts : 2;
  for (int i = 0; i < lab->nchecks; i++) {
    grd_check_result *cr = result_for(r, i);
    emit(o, (grd_event){.kind = GRD_EV_CHECK_START, .index = i, .total = r->nchecks, .name = cr->name});
    double c0 = eng_now();
    if (lab->checks[i].gpu && !c.gpu) {
      /* Not failed, not passed: this machine cannot run it. */
      cr->skipped = 1;
      char m[256];
      snprintf(m, sizeof m, "skipped: needs a GPU (%s)", c.gpu_why);
      set_message(cr, m);
      emit(o, (grd_event){.kind = GRD_EV_CHECK_DONE, .index = i, .total = r->nchecks,
                          .name = cr->name, .check = cr});
      continue;
    }
    int tries = lab->checks[i].timed ? tries_timed : 1, s = 'e';
    for (int a = 0; a < tries; a++) {
      cr->attempts = a + 1;
      int lock = lab->checks[i].timed ? timed_lock(root) : -1;
      s = run_check_once(L, &c, def_ref, jail_ref, i, cr);
      if (lock >= 0) close(lock); /* closing releases the flock */
      if (c.fatal) break;
      if (s != 'f') break; /* only a missed timing target is re-measured */
    }
    if (c.fatal) {
      rc = c.fatal;
      *err = c.fatal_msg;
      c.fatal_msg = NULL;
      goto done;
    }
    cr->seconds = eng_now() - c0;
    cr->passed = s == 'p';
    cr->score = cr->passed ? cr->max_score : 0;
    r->score += cr->score;
    emit(o, (grd_event){.kind = GRD_EV_CHECK_DONE, .index = i, .total = r->nchecks,
                        .name = cr->name, .check = cr});
  }
done:
  drop_jails(&c);
  if (L) {
    lx_close(L);
  }
  if (c.rundir) grd__rmtree(c.rundir);
  free(c.rundir);
  free(c.builddir);
  for (int w = 0; w < J_COUNT; w++) free(c.so[w]);
  if (c.specs)
    for (int i = 0; i < lab->nexports; i++) free(c.specs[i]);
  free(c.specs);
  free(c.sigs);
  free(c.fatal_msg);
  if (rc) {
    grd_result_free(r);
    return rc;
  }
  r->seconds = eng_now() - t0;
  *out = r;
  return 0;
}
