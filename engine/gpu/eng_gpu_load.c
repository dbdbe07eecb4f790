/*
 * eng_gpu_load.c — the GPU backend as the parlab binaries see it: every
 * eng_gpu_* function is a trampoline into libparlab-gpu.so, the CUDA
 * backend built as a module and loaded with dlopen on the first GPU call.
 *
 * Why a module. The CUDA runtime is linked statically into the backend,
 * and a program that contains it pays for its initialisation (and for
 * the loader's work on its code) at every start, GPU or not: about a
 * millisecond, which every `parlab` command and every jail (one exec per
 * check) would pay. Loaded on demand, only GPU work pays it.
 *
 * Where the module is: $PARLAB_GPU_MODULE, else libparlab-gpu.so next to
 * the running executable, else the build folder it was built in (for the
 * test programs, which live in a sub-folder). When it cannot be loaded,
 * the calls behave as in a build without CUDA (eng_gpu_stub.c, compiled
 * here again under other names) and the reason says what went wrong.
 *
 * Thread-safety: the module is loaded once (pthread_once); after that the
 * table is read-only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_gpu_funcs.h"
#include "eng_path.h"

static char load_why[PATH_MAX + 512];

#define ENG_GPU_STUB_REASON load_why
#define STUB(name) stub_##name
#define STUB_LINKAGE static
#include "eng_gpu_stub.c"

static const eng_gpu_module *mod;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static int try_path(const char *path) {
  if (access(path, R_OK)) return 0;
  /* RTLD_LOCAL: nothing else should resolve against the CUDA runtime in it. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(load_why, sizeof load_why, "no CUDA device: cannot load the GPU backend %s: %.300s",
             path, dlerror());
    return -1;
  }
  eng_gpu_module_fn fn;
  *(void **)&fn = dlsym(h, ENG_GPU_MODULE_SYMBOL);
  const eng_gpu_module *t = fn ? fn() : NULL;
  if (!t || t->abi != ENG_GPU_MODULE_ABI) {
    snprintf(load_why, sizeof load_why,
             "no CUDA device: %s is from another parlab version (rebuild parlab)", path);
    dlclose(h);
    return -1;
  }
  mod = t;
  return 1;
}

static void load(void) {
  snprintf(load_why, sizeof load_why,
           "no CUDA device: the GPU backend libparlab-gpu.so was not found next to the "
           "parlab executable (set PARLAB_GPU_MODULE to its path)");
  const char *env = getenv("PARLAB_GPU_MODULE");
  if (env && *env) {
    if (!try_path(env))
      snprintf(load_why, sizeof load_why, "no CUDA device: PARLAB_GPU_MODULE=%.300s: not found",
               env);
    return;
  }
  char path[PATH_MAX];
  if (eng_exe_sibling("libparlab-gpu.so", path, sizeof path) == 0 && try_path(path)) return;
#ifdef ENG_GPU_MODULE_PATH
  try_path(ENG_GPU_MODULE_PATH);
#endif
}

static int loaded(void) {
  pthread_once(&load_once, load);
  return mod != NULL;
}

#define TRAMPOLINE(ret, name, params, args) \
  ret eng_gpu_##name params { return loaded() ? mod->name args : stub_##name args; }
#define TRAMPOLINEV(name, params, args) \
  void eng_gpu_##name params {          \
    if (loaded()) mod->name args;       \
    else stub_##name args;              \
  }
ENG_GPU_FUNCS(TRAMPOLINE, TRAMPOLINEV)
