/*
 * eng_path.h — where the running program's companion files are.
 *
 * parlab keeps helpers next to its executable (parlab-jail, the MPI and
 * CUDA modules) and finds them through /proc/self/exe, so a build folder,
 * an install folder or a copied tree all work without configuration.
 * Inline: the GPU loader (engine/gpu, its own library below plengine) uses
 * it too, and must not depend on plengine's link order.
 *
 * Thread-safety: reentrant.
 */
#ifndef ENG_PATH_H
#define ENG_PATH_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* out = "<folder of the running executable>/name". 0, or -1 when the
 * executable cannot be found or the path does not fit in n bytes. Whether
 * the file exists is the caller's question. */
static inline int eng_exe_sibling(const char *name, char *out, size_t n) {
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return -1;
  exe[len] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  int w = snprintf(out, n, "%s/%s", slash ? exe : ".", name);
  return w < 0 || (size_t)w >= n ? -1 : 0;
}

#endif
