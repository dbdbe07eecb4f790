/*
 * tui_watch.c — notice when the student saves the workspace file (watch
 * mode), with inotify.
 *
 * The watch is on the file's folder, not the file: editors such as vim
 * and VS Code save by writing a new file and renaming it over the old one,
 * which would silently end a watch on the old inode. A save is a
 * close-after-write (IN_CLOSE_WRITE) or a rename onto the name
 * (IN_MOVED_TO). The descriptor is non-blocking and polled once per UI
 * tick. No curses.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "pl_err.h"
#include "tui_int.h"

struct tui_watch {
  int fd;
  char *name; /* the file's base name */
};

int tui__watch_open(const char *file, tui_watch **out, char **err) {
  *out = NULL;
  *err = NULL;
  tui_watch *w = calloc(1, sizeof *w);
  char *dir = strdup(file);
  int rc = PL_ENOMEM;
  if (!w || !dir) goto done;
  w->fd = -1;
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : file;
  if (slash == dir) slash[1] = 0; /* "/file": the root folder */
  else if (slash) *slash = 0;
  else strcpy(dir, ".");
  if (!(w->name = strdup(base))) goto done;
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0 ||
      inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    rc = PL_EIO;
    size_t n = strlen(dir) + 128;
    if ((*err = malloc(n)))
      snprintf(*err, n, "cannot watch %s: %s", dir, strerror(errno));
    goto done;
  }
  *out = w;
  w = NULL;
  rc = 0;
done:
  tui__watch_free(w);
  free(dir);
  return rc;
}

int tui__watch_poll(tui_watch *w) {
  if (!w) return 0;
  int saved = 0;
  /* aligned as the kernel wants; several events per read */
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n <= 0) break; /* EAGAIN: drained */
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->len > 0 && !strcmp(ev->name, w->name) &&
          (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
        saved = 1;
      p += sizeof *ev + ev->len;
    }
  }
  return saved;
}

void tui__watch_free(tui_watch *w) {
  if (!w) return;
  if (w->fd >= 0) close(w->fd);
  free(w->name);
  free(w);
}
