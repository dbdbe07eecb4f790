/*
 * tui_hl.c — syntax highlighting for code blocks in lectures and briefs:
 * C (and C++), CUDA, Lua, shell and Python. A small hand-written lexer per
 * language family, driven by a table (comment markers, string rules,
 * keywords): enough to colour keywords, strings, comments and numbers
 * correctly, not a parser. No curses: it only assigns colour roles.
 */
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "tui_int.h"

typedef enum { HL_C, HL_LUA, HL_SH, HL_PY } hl_family;

typedef struct hl_lang {
  const char *const *names; /* info-string aliases */
  hl_family fam;
  const char *const *keywords;
} hl_lang;

static const char *const c_names[] = {"c", "h", "cpp", "c++", "cc", "hpp", NULL};
static const char *const cuda_names[] = {"cuda", "cu", NULL};
static const char *const lua_names[] = {"lua", NULL};
static const char *const sh_names[] = {"sh",  "bash",    "shell", "console",
                                       "zsh", "shell-session", NULL};
static const char *const py_names[] = {"python", "py", "python3", NULL};

#define C_KEYWORDS                                                               \
  "auto", "break", "case", "char", "const", "continue", "default", "do",         \
      "double", "else", "enum", "extern", "float", "for", "goto", "if",          \
      "inline", "int", "long", "register", "restrict", "return", "short",        \
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",      \
      "unsigned", "void", "volatile", "while", "_Bool", "bool", "true", "false", \
      "NULL", "size_t", "int64_t", "uint64_t", "int32_t", "uint32_t",            \
      "uint8_t", "_Atomic", "_Thread_local", "class", "namespace", "template",   \
      "nullptr", "public", "private", "new", "delete", "using", "auto"

static const char *const c_kw[] = {C_KEYWORDS, NULL};
static const char *const cuda_kw[] = {
    C_KEYWORDS, "__global__", "__device__", "__host__", "__shared__",
    "__constant__", "__syncthreads", "threadIdx", "blockIdx", "blockDim",
    "gridDim", "dim3", "cudaMalloc", "cudaMemcpy", "cudaFree", NULL};
static const char *const lua_kw[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
    "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
    "true", "until", "while", NULL};
static const char *const sh_kw[] = {
    "if", "then", "else", "elif", "fi", "for", "do", "done", "case", "esac",
    "while", "until", "function", "in", "return", "export", "local", "set",
    "unset", "echo", "cd", "exit", "source", "sudo", NULL};
static const char *const py_kw[] = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break",
    "class", "continue", "def", "del", "elif", "else", "except", "finally",
    "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    "self", "print", NULL};

static const hl_lang langs[] = {
    {c_names, HL_C, c_kw},     {cuda_names, HL_C, cuda_kw},
    {lua_names, HL_LUA, lua_kw}, {sh_names, HL_SH, sh_kw},
    {py_names, HL_PY, py_kw},
};

static const hl_lang *find_lang(const char *lang) {
  if (!lang || !*lang) return NULL;
  for (size_t k = 0; k < sizeof langs / sizeof langs[0]; k++)
    for (const char *const *n = langs[k].names; *n; n++)
      if (!strcasecmp(*n, lang)) return &langs[k];
  return NULL;
}

static int is_ident0(wchar_t c) { return c == L'_' || (c < 128 && iswalpha(c)); }
static int is_ident(wchar_t c) { return c == L'_' || (c < 128 && iswalnum(c)); }

static int is_keyword(const hl_lang *l, const wchar_t *s, int n) {
  for (const char *const *k = l->keywords; *k; k++) {
    int kn = (int)strlen(*k);
    if (kn != n) continue;
    int same = 1;
    for (int i = 0; i < n && same; i++) same = (wchar_t)(*k)[i] == s[i];
    if (same) return 1;
  }
  return 0;
}

static void paint(uint16_t *st, int from, int to, uint16_t role) {
  for (int k = from; k < to; k++) st[k] = role;
}

/* Lua long brackets: at s[i] == '[', "[[" or "[==[": returns the level (number
 * of '='), or -1 when this is not a long bracket. */
static int long_open(const wchar_t *s, int n, int i) {
  if (i >= n || s[i] != L'[') return -1;
  int j = i + 1, lvl = 0;
  while (j < n && s[j] == L'=') { j++; lvl++; }
  return j < n && s[j] == L'[' ? lvl : -1;
}

/* End (exclusive) of a long bracket body of level lvl starting at i. */
static int long_close(const wchar_t *s, int n, int i, int lvl) {
  for (int k = i; k < n; k++) {
    if (s[k] != L']') continue;
    int j = k + 1, e = 0;
    while (j < n && s[j] == L'=') { j++; e++; }
    if (e == lvl && j < n && s[j] == L']') return j + 1;
  }
  return n;
}

/* A quoted string from s[i] (the quote); backslash escapes unless raw.
 * Single-line strings end at the newline. Returns the end (exclusive). */
static int quoted(const wchar_t *s, int n, int i, int raw, int multiline) {
  wchar_t q = s[i];
  int k = i + 1;
  while (k < n) {
    if (!raw && s[k] == L'\\' && k + 1 < n) { k += 2; continue; }
    if (s[k] == q) return k + 1;
    if (s[k] == L'\n' && !multiline) return k;
    k++;
  }
  return n;
}

static int number_end(const wchar_t *s, int n, int i) {
  int k = i;
  while (k < n) {
    wchar_t c = s[k];
    if (is_ident(c) || c == L'.') {
      k++;
      continue;
    }
    /* an exponent sign: 1e-9, 0x1p+3 */
    if ((c == L'+' || c == L'-') && k > i &&
        (s[k - 1] == L'e' || s[k - 1] == L'E' || s[k - 1] == L'p' ||
         s[k - 1] == L'P') &&
        !(s[i] == L'0' && k > i + 1 && (s[i + 1] == L'x' || s[i + 1] == L'X') &&
          (s[k - 1] == L'e' || s[k - 1] == L'E'))) {
      k++;
      continue;
    }
    break;
  }
  return k;
}

int tui__hl(const char *lang, const wchar_t *s, int n, uint16_t *st) {
  const hl_lang *l = find_lang(lang);
  if (!l) return 0;
  paint(st, 0, n, TUI_C_NORMAL);
  int line_start = 1; /* only blanks so far on this line */
  int i = 0;
  while (i < n) {
    wchar_t c = s[i];
    wchar_t d = i + 1 < n ? s[i + 1] : 0;
    int start = i;
    if (c == L'\n') {
      line_start = 1;
      i++;
      continue;
    }
    if (c == L' ' || c == L'\t') {
      i++;
      continue;
    }
    int was_start = line_start;
    line_start = 0;
    /* comments */
    if (l->fam == HL_C && c == L'/' && d == L'/') {
      while (i < n && s[i] != L'\n') i++;
      paint(st, start, i, TUI_C_COMMENT);
      continue;
    }
    if (l->fam == HL_C && c == L'/' && d == L'*') {
      i += 2;
      while (i < n && !(s[i] == L'*' && i + 1 < n && s[i + 1] == L'/')) i++;
      i = i < n ? i + 2 : n;
      paint(st, start, i, TUI_C_COMMENT);
      continue;
    }
    if (l->fam == HL_LUA && c == L'-' && d == L'-') {
      int lvl = long_open(s, n, i + 2);
      if (lvl >= 0) i = long_close(s, n, i + 4 + lvl, lvl);
      else
        while (i < n && s[i] != L'\n') i++;
      paint(st, start, i, TUI_C_COMMENT);
      continue;
    }
    if ((l->fam == HL_SH || l->fam == HL_PY) && c == L'#' &&
        (start == 0 || s[start - 1] == L' ' || s[start - 1] == L'\t' ||
         s[start - 1] == L'\n' || s[start - 1] == L';')) {
      while (i < n && s[i] != L'\n') i++;
      paint(st, start, i, TUI_C_COMMENT);
      continue;
    }
    /* strings */
    if (l->fam == HL_LUA && c == L'[') {
      int lvl = long_open(s, n, i);
      if (lvl >= 0) {
        i = long_close(s, n, i + 2 + lvl, lvl);
        paint(st, start, i, TUI_C_STRING);
        continue;
      }
    }
    if (l->fam == HL_PY && (c == L'"' || c == L'\'') && d == c &&
        i + 2 < n && s[i + 2] == c) {
      i += 3;
      while (i < n && !(s[i] == c && i + 2 < n && s[i + 1] == c && s[i + 2] == c))
        i++;
      i = i < n ? i + 3 : n;
      paint(st, start, i, TUI_C_STRING);
      continue;
    }
    if (c == L'"' || c == L'\'' || (l->fam == HL_SH && c == L'`')) {
      int raw = l->fam == HL_SH && c == L'\'';
      /* a C character literal or a shell string may not span lines; a
       * shell "..." may */
      i = quoted(s, n, i, raw, l->fam == HL_SH);
      paint(st, start, i, TUI_C_STRING);
      continue;
    }
    /* C preprocessor: the directive word */
    if (l->fam == HL_C && c == L'#' && was_start) {
      i++;
      while (i < n && (s[i] == L' ' || s[i] == L'\t')) i++;
      while (i < n && is_ident(s[i])) i++;
      paint(st, start, i, TUI_C_KEYWORD);
      /* #include <file.h> */
      int k = i;
      while (k < n && (s[k] == L' ' || s[k] == L'\t')) k++;
      if (k < n && s[k] == L'<') {
        int e = k;
        while (e < n && s[e] != L'>' && s[e] != L'\n') e++;
        if (e < n && s[e] == L'>') {
          paint(st, k, e + 1, TUI_C_STRING);
          i = e + 1;
        }
      }
      continue;
    }
    /* shell variables */
    if (l->fam == HL_SH && c == L'$') {
      i++;
      if (i < n && s[i] == L'{') {
        while (i < n && s[i] != L'}' && s[i] != L'\n') i++;
        if (i < n && s[i] == L'}') i++;
      } else {
        while (i < n && (is_ident(s[i]) || (i == start + 1 && wcschr(L"?#@*!$", s[i]))))
          i++;
      }
      paint(st, start, i, TUI_C_NUMBER);
      continue;
    }
    /* Python decorators */
    if (l->fam == HL_PY && c == L'@' && was_start) {
      i++;
      while (i < n && (is_ident(s[i]) || s[i] == L'.')) i++;
      paint(st, start, i, TUI_C_KEYWORD);
      continue;
    }
    /* numbers */
    if ((c < 128 && iswdigit(c)) || (c == L'.' && d < 128 && iswdigit(d) &&
                                     !(start > 0 && is_ident(s[start - 1])))) {
      if (start > 0 && is_ident(s[start - 1])) { /* x1: part of a name */
        i++;
        continue;
      }
      i = number_end(s, n, i);
      paint(st, start, i, TUI_C_NUMBER);
      continue;
    }
    /* identifiers and keywords; shell options like --flag stay plain */
    if (is_ident0(c)) {
      while (i < n && (is_ident(s[i]) || (l->fam == HL_SH && s[i] == L'-'))) i++;
      if (is_keyword(l, s + start, i - start)) paint(st, start, i, TUI_C_KEYWORD);
      continue;
    }
    i++;
  }
  return 1;
}
