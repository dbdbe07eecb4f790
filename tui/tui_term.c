/*
 * tui_term.c — the only file that talks to curses: terminal setup and
 * teardown, colours (none, 16 or 256), flushing the cell grid, reading keys
 * and mouse events, and handing the terminal to $EDITOR and back.
 */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pl_err.h"
#include "tui_int.h"

static SCREEN *term_screen;
static int term_color;
static tui_mouse last_mouse;

/* Colour roles to curses colours; -1 is the terminal's default. */
static const short role_fg[TUI_C_COUNT] = {
  [TUI_C_NORMAL] = -1, [TUI_C_HEADING] = COLOR_CYAN,
  [TUI_C_CODE] = COLOR_YELLOW, [TUI_C_LINK] = COLOR_BLUE,
  [TUI_C_QUOTE] = COLOR_GREEN, [TUI_C_OK] = COLOR_GREEN,
  [TUI_C_FAIL] = COLOR_RED, [TUI_C_WARN] = COLOR_YELLOW,
  [TUI_C_ACCENT] = COLOR_MAGENTA, [TUI_C_KEYWORD] = COLOR_BLUE,
  [TUI_C_STRING] = COLOR_GREEN, [TUI_C_COMMENT] = -1,
  [TUI_C_NUMBER] = COLOR_CYAN, [TUI_C_MUTED] = -1, [TUI_C_BAR] = -1,
  [TUI_C_SEL] = -1,
};

/* The same roles on a 256-colour terminal: softer, and comments in grey
 * rather than dim. */
static const short role_fg256[TUI_C_COUNT] = {
  [TUI_C_NORMAL] = -1, [TUI_C_HEADING] = 75, [TUI_C_CODE] = 179,
  [TUI_C_LINK] = 39, [TUI_C_QUOTE] = 108, [TUI_C_OK] = 71,
  [TUI_C_FAIL] = 167, [TUI_C_WARN] = 214, [TUI_C_ACCENT] = 170,
  [TUI_C_KEYWORD] = 141, [TUI_C_STRING] = 114, [TUI_C_COMMENT] = 244,
  [TUI_C_NUMBER] = 173, [TUI_C_MUTED] = -1, [TUI_C_BAR] = -1,
  [TUI_C_SEL] = -1,
};
static const short *term_fg = role_fg;

int tui__term_open(int want_color, int *has_color, char **err) {
  *has_color = 0;
  const char *term = getenv("TERM");
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
    *err = strdup("the courseware needs a terminal (stdin and stdout must "
                  "be a tty); see `parlab --help` for commands that print");
    return PL_EINVAL;
  }
  /* newterm, unlike initscr, reports a bad TERM instead of exiting. */
  term_screen = newterm(NULL, stdout, stdin);
  if (!term_screen) {
    size_t n = 128 + (term ? strlen(term) : 0);
    *err = malloc(n);
    if (*err)
      snprintf(*err, n, "cannot use the terminal type '%s' (TERM); try "
                        "TERM=xterm-256color", term ? term : "");
    return PL_EINVAL;
  }
  set_term(term_screen);
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  intrflush(stdscr, FALSE);
  set_escdelay(25);
  curs_set(0);
  timeout(50);
  if (want_color && has_colors()) {
    start_color();
    use_default_colors();
    term_fg = COLORS >= 256 ? role_fg256 : role_fg;
    for (short r = 1; r < TUI_C_COUNT; r++)
      init_pair(r, term_fg[r] < COLORS ? term_fg[r] : -1, -1);
    term_color = 1;
    *has_color = COLORS >= 256 ? 256 : 16;
  }
  /* press, not click: a click waits mouseinterval() to tell it from a
   * double click, and the wheel arrives as buttons 4 and 5 */
  mouseinterval(0);
  mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
  return 0;
}

void tui__term_close(void) {
  if (!term_screen) return;
  endwin();
  delscreen(term_screen);
  term_screen = NULL;
}

void tui__term_size(int *w, int *h) {
  int y, x;
  getmaxyx(stdscr, y, x);
  *w = x;
  *h = y;
}

static void cell_attr(uint16_t st, attr_t *attr, short *pair) {
  unsigned role = st & TUI_C_MASK;
  attr_t a = 0;
  if (st & TUI_A_BOLD) a |= A_BOLD;
  if (st & TUI_A_UNDER) a |= A_UNDERLINE;
  if (st & TUI_A_REVERSE) a |= A_REVERSE;
  if (st & (TUI_A_DIM | TUI_A_STRIKE)) a |= A_DIM;
#ifdef A_ITALIC
  if (st & TUI_A_ITALIC) a |= A_ITALIC;
#endif
  if (role == TUI_C_MUTED) a |= A_DIM;
  if (!term_color && role == TUI_C_KEYWORD) a |= A_BOLD;
  if (role == TUI_C_COMMENT && term_fg[role] < 0) a |= A_DIM;
  if (role == TUI_C_BAR) a |= A_REVERSE;
  if (role == TUI_C_SEL) a |= A_REVERSE | A_BOLD;
  /* without colour, headings and code still need to stand out */
  if (!term_color && role == TUI_C_HEADING) a |= A_BOLD;
  if (!term_color && role == TUI_C_FAIL) a |= A_BOLD;
  *attr = a;
  *pair = term_color && role < TUI_C_COUNT && term_fg[role] >= 0 ? (short)role
                                                                   : 0;
}

void tui__term_flush(const tui_grid *g, int utf8) {
  int sw, sh;
  tui__term_size(&sw, &sh);
  for (int y = 0; y < g->h && y < sh; y++) {
    for (int x = 0; x < g->w && x < sw; x++) {
      const tui_cell *c = &g->c[y * g->w + x];
      if (c->w == 0) continue;
      wchar_t wc[2] = {c->ch, 0};
      int split = 0; /* a wide character drawn as two narrow cells */
      if (!utf8 && (wc[0] > 0x7e || wc[0] < 0x20)) {
        wc[0] = L'?';
        split = c->w == 2;
      }
      if (c->w == 2 && x + 1 >= sw) wc[0] = L' ';
      attr_t a;
      short p;
      cell_attr(c->st, &a, &p);
      cchar_t cc;
      setcchar(&cc, wc, a, p, NULL);
      mvadd_wch(y, x, &cc); /* ERR in the last cell is expected */
      if (split && x + 1 < sw) mvadd_wch(y, x + 1, &cc);
    }
  }
  wnoutrefresh(stdscr);
  doupdate();
}

int tui__term_getkey(void) {
  int k = getch();
  switch (k) {
  case ERR: return TUI_KEY_NONE;
  case KEY_UP: return TUI_KEY_UP;
  case KEY_DOWN: return TUI_KEY_DOWN;
  case KEY_LEFT: return TUI_KEY_LEFT;
  case KEY_RIGHT: return TUI_KEY_RIGHT;
  case KEY_PPAGE: return TUI_KEY_PGUP;
  case KEY_NPAGE: return TUI_KEY_PGDN;
  case KEY_HOME: return TUI_KEY_HOME;
  case KEY_END: return TUI_KEY_END;
  case KEY_BTAB: return TUI_KEY_BTAB;
  case KEY_BACKSPACE: case 127: case 8: return TUI_KEY_BACKSPACE;
  case KEY_ENTER: case '\n': case '\r': return TUI_KEY_ENTER;
  case KEY_RESIZE: return TUI_KEY_RESIZE;
  case KEY_DC: return TUI_KEY_DELETE;
  case KEY_MOUSE: {
    MEVENT ev;
    if (getmouse(&ev) != OK) return TUI_KEY_NONE;
    memset(&last_mouse, 0, sizeof last_mouse);
    last_mouse.x = ev.x;
    last_mouse.y = ev.y;
    if (ev.bstate & BUTTON4_PRESSED) last_mouse.kind = TUI_MOUSE_WHEEL_UP;
#ifdef BUTTON5_PRESSED
    else if (ev.bstate & BUTTON5_PRESSED) last_mouse.kind = TUI_MOUSE_WHEEL_DOWN;
#endif
    else if (ev.bstate & BUTTON1_PRESSED) last_mouse.kind = TUI_MOUSE_CLICK;
    else return TUI_KEY_NONE;
    return TUI_KEY_MOUSE;
  }
  default: return k >= KEY_MIN ? TUI_KEY_NONE : k;
  }
}

void tui__term_mouse(tui_mouse *m) { *m = last_mouse; }

void tui__term_redraw(void) { clearok(curscr, TRUE); }

int tui__term_edit(const char *path) {
  const char *ed = getenv("EDITOR");
  if (!ed || !*ed) ed = "vi";
  /* The path travels as $1, so no quoting of it can go wrong. */
  size_t n = strlen(ed) + 8;
  char *cmd = malloc(n);
  if (!cmd) return PL_ENOMEM;
  snprintf(cmd, n, "%s \"$1\"", ed);

  def_prog_mode();
  endwin();
  struct sigaction ign, old_int, old_quit;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);

  int rc;
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
    _exit(127);
  }
  if (pid < 0) {
    rc = PL_EIO;
  } else {
    int status = 0;
    pid_t w;
    do w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0) rc = PL_EIO;
    else if (WIFEXITED(status)) rc = WEXITSTATUS(status);
    else rc = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  free(cmd);

  reset_prog_mode();
  clearok(curscr, TRUE);
  refresh();
  return rc;
}
