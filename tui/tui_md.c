/*
 * tui_md.c — CommonMark (GFM dialect) laid out as styled lines: the one
 * Markdown renderer of parlab. The lecture reader and the lab screen draw
 * the lines into the cell grid; tui_md_print() writes them to a FILE with
 * or without ANSI escapes.
 *
 * md4c calls back per block, span and text run. Inline content collects in
 * a rich buffer and is wrapped when its block ends; containers (quotes,
 * list items) contribute a prefix to every line inside them. Tables collect
 * all cells first, since column widths depend on every row.
 */
#include <md4c.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

#define MD_MAXBOX 32
#define MD_MAXLINK 8

typedef struct md_box {
  tui_rich first, cont;
  int used;  /* first line emitted: later lines take `cont` */
  int is_li;
} md_box;

typedef struct md_list {
  int ordered;
  unsigned next;
  char delim;
} md_list;

typedef struct md_ctx {
  const char *md;
  size_t len;
  tui_mdopts o;
  tui_doc *d;

  md_box box[MD_MAXBOX];
  int nbox, box_over;
  md_list list[MD_MAXBOX];
  int nlist, list_over;

  tui_rich para; /* inline content of the current leaf block */
  int para_src;
  tui_rich code;  /* verbatim content of a code or HTML block */
  int code_src;
  char code_lang[32]; /* first word of a fenced block's info string */
  int ncode;          /* code blocks seen, for after_code's index */
  int in_code, in_html;
  int heading;
  int em, strong, icode, del, img, quote;
  struct { char *href; int start; } link[MD_MAXLINK];
  int nlink, link_over;

  int in_table, in_head, in_cell;
  tui_table tb;
  int tb_src, tb_col;
  tui_rich *cell;
  tui_rich scratch; /* cells beyond the column count */

  int need_blank, last_blank;
  size_t scan_off;
  int scan_line;
} md_ctx;

static const tui_rich no_prefix;

static int src_line(md_ctx *c, const char *p) {
  if (p < c->md || p > c->md + c->len) return 0;
  size_t off = (size_t)(p - c->md);
  if (off < c->scan_off) { c->scan_off = 0; c->scan_line = 1; }
  for (size_t k = c->scan_off; k < off; k++)
    if (c->md[k] == '\n') c->scan_line++;
  c->scan_off = off;
  return c->scan_line;
}

static tui_rich *cur_rich(md_ctx *c) {
  if (c->in_cell) return c->cell;
  if (c->in_code || c->in_html) return &c->code;
  return &c->para;
}

static uint16_t cur_style(const md_ctx *c) {
  uint16_t st = TUI_C_NORMAL;
  if (c->heading) st = TUI_C_HEADING | TUI_A_BOLD;
  if (c->in_cell && c->in_head) st |= TUI_A_BOLD;
  if (c->quote && !c->heading) st |= TUI_A_ITALIC;
  if (c->nlink + c->link_over)
    st = (uint16_t)((st & ~TUI_C_MASK) | TUI_C_LINK | TUI_A_UNDER);
  if (c->img) st = (uint16_t)((st & ~TUI_C_MASK) | TUI_C_MUTED);
  if (c->icode)
    st = (uint16_t)((st & ~(TUI_C_MASK | TUI_A_UNDER)) | TUI_C_CODE);
  if (c->em) st |= TUI_A_ITALIC;
  if (c->strong) st |= TUI_A_BOLD;
  if (c->del) st |= TUI_A_STRIKE;
  return st;
}

/* ---- prefixes and blank lines ---- */

static void build_prefix(md_ctx *c, tui_rich *first, tui_rich *cont) {
  for (int k = 0; k < c->nbox; k++) {
    md_box *b = &c->box[k];
    if (first) tui__rich_append(first, b->used ? &b->cont : &b->first);
    if (cont) tui__rich_append(cont, &b->cont);
  }
}

static void mark_used(md_ctx *c) {
  for (int k = 0; k < c->nbox; k++) c->box[k].used = 1;
}

static void emit_blank(md_ctx *c) {
  if (c->d->n == 0 || c->last_blank) return;
  tui_line *l = tui__doc_add(c->d, 0);
  if (!l) return;
  build_prefix(c, NULL, &l->t);
  tui__rich_rtrim(&l->t);
  c->last_blank = 1;
}

static void before_block(md_ctx *c) {
  if (c->need_blank) emit_blank(c);
  c->need_blank = 0;
}

static int prefix_width(md_ctx *c) {
  int w = 0;
  for (int k = 0; k < c->nbox; k++)
    w += tui__rich_width(&c->box[k].cont, 0, c->box[k].cont.n);
  return w;
}

static void emitted(md_ctx *c, int n0) {
  if (c->d->n > n0) {
    c->last_blank = 0;
    mark_used(c);
  }
}

/* ---- what the reader needs: headings and code blocks ---- */

void tui__mdinfo_free(tui_mdinfo *i) {
  if (!i) return;
  for (int k = 0; k < i->nheads; k++) free(i->heads[k].text);
  for (int k = 0; k < i->ncodes; k++) {
    free(i->codes[k].lang);
    free(i->codes[k].text);
  }
  free(i->heads);
  free(i->codes);
  memset(i, 0, sizeof *i);
}

static char *rich_utf8(const tui_rich *r, int from, int to);

static void note_heading(md_ctx *c, int line) {
  tui_mdinfo *in = c->o.info;
  if (!in) return;
  tui_mdhead *h = realloc(in->heads, (size_t)(in->nheads + 1) * sizeof *h);
  if (!h) { c->d->oom = 1; return; }
  in->heads = h;
  h = &in->heads[in->nheads];
  h->level = c->heading;
  h->line = line;
  h->text = rich_utf8(&c->para, 0, c->para.n);
  if (!h->text) { c->d->oom = 1; return; }
  in->nheads++;
}

static void note_code(md_ctx *c, int first, int last) {
  tui_mdinfo *in = c->o.info;
  if (!in) return;
  tui_mdcode *k = realloc(in->codes, (size_t)(in->ncodes + 1) * sizeof *k);
  if (!k) { c->d->oom = 1; return; }
  in->codes = k;
  k = &in->codes[in->ncodes];
  k->lang = strdup(c->code_lang);
  k->text = rich_utf8(&c->code, 0, c->code.n);
  k->src = c->code_src;
  k->first = first;
  k->last = last;
  if (!k->lang || !k->text) {
    free(k->lang);
    free(k->text);
    c->d->oom = 1;
    return;
  }
  in->ncodes++;
}

/* ---- leaf blocks ---- */

static void flush_para(md_ctx *c) {
  if (c->para.n == 0) return;
  before_block(c);
  tui_rich f = {0}, k = {0};
  build_prefix(c, &f, &k);
  int n0 = c->d->n;
  if (c->heading) note_heading(c, n0);
  tui__wrap(c->d, &c->para, c->o.width, &f, &k, c->para_src);
  if (c->heading == 1 || c->heading == 2) {
    int avail = c->o.width - prefix_width(c);
    int tw = tui__rich_width(&c->para, 0, c->para.n);
    if (tw > avail) tw = avail;
    tui_line *l = tui__doc_add(c->d, c->para_src);
    if (l) {
      tui__rich_append(&l->t, &k);
      const char *g = tui__glyph(c->o.ascii,
                                 c->heading == 1 ? TUI_G_RULE1 : TUI_G_RULE2);
      for (int x = 0; x < tw; x++)
        tui__rich_puts(&l->t, g, (size_t)-1, TUI_C_HEADING);
    }
  }
  emitted(c, n0);
  if (c->para.oom) c->d->oom = 1;
  tui__rich_clear(&c->para);
  tui__rich_free(&f);
  tui__rich_free(&k);
}

static int only_comment(const tui_rich *r) {
  int a = 0, b = r->n;
  while (a < b && (r->ch[a] == L' ' || r->ch[a] == L'\n')) a++;
  while (b > a && (r->ch[b - 1] == L' ' || r->ch[b - 1] == L'\n')) b--;
  return b - a >= 7 && !wcsncmp(r->ch + a, L"<!--", 4) &&
         !wcsncmp(r->ch + b - 3, L"-->", 3);
}

/* Code and raw HTML blocks: verbatim, tabs expanded, hard-wrapped. */
static void flush_code(md_ctx *c, int html) {
  tui_rich *r = &c->code;
  if (html && only_comment(r)) goto done;
  before_block(c);
  tui_rich f = {0}, k = {0};
  build_prefix(c, &f, &k);
  int indent = html ? 0 : 4;
  int avail = c->o.width - prefix_width(c) - indent;
  if (avail < 10) avail = 10;
  uint16_t st = html ? TUI_C_MUTED : TUI_C_CODE;
  /* per-character roles when the language is one we highlight */
  uint16_t *hl = NULL;
  if (!html && c->code_lang[0] && r->n > 0 && !c->o.plain &&
      (hl = malloc((size_t)r->n * sizeof *hl)) &&
      !tui__hl(c->code_lang, r->ch, r->n, hl)) {
    free(hl);
    hl = NULL;
  }
  int n0 = c->d->n, lineno = 0, i = 0;
  int end = r->n;
  if (end > 0 && r->ch[end - 1] == L'\n') end--;
  while (i <= end) {
    int j = i;
    while (j < end && r->ch[j] != L'\n') j++;
    tui_line *l = tui__doc_add(c->d, c->code_src ? c->code_src + lineno : 0);
    if (!l) break;
    tui__rich_append(&l->t, c->d->n - 1 == n0 ? &f : &k);
    for (int s = 0; s < indent; s++) tui__rich_putc(&l->t, L' ', st);
    int col = 0;
    for (int x = i; x < j; x++) {
      wchar_t ch = r->ch[x];
      int cw = ch == L'\t' ? 4 - col % 4 : tui__wcwidth(ch);
      if (col + cw > avail && col > 0) {
        l = tui__doc_add(c->d, c->code_src ? c->code_src + lineno : 0);
        if (!l) break;
        tui__rich_append(&l->t, &k);
        for (int s = 0; s < indent; s++) tui__rich_putc(&l->t, L' ', st);
        col = 0;
        if (ch == L'\t') cw = 4;
      }
      uint16_t cs = hl ? hl[x] : st;
      if (ch == L'\t')
        for (int s = 0; s < cw; s++) tui__rich_putc(&l->t, L' ', cs);
      else
        tui__rich_putc(&l->t, ch, cs);
      col += cw;
    }
    if (!l) break;
    tui__rich_rtrim(&l->t);
    lineno++;
    i = j + 1;
  }
  free(hl);
  emitted(c, n0);
  c->need_blank = 1;
  tui__rich_free(&f);
  tui__rich_free(&k);
  if (!html) {
    int index = c->ncode++;
    note_code(c, n0, c->d->n);
    if (c->o.after_code) {
      int n1 = c->d->n;
      c->o.after_code(c->o.arg, index, c->d, c->o.width - prefix_width(c));
      emitted(c, n1);
    }
  }
done:
  if (r->oom) c->d->oom = 1;
  tui__rich_clear(r);
}

static void table_free(md_ctx *c) {
  tui_table *t = &c->tb;
  for (int x = 0; t->cells && x < t->nrows * t->ncols; x++)
    tui__rich_free(&t->cells[x]);
  free(t->cells);
  free(t->align);
  memset(t, 0, sizeof *t);
}

static void flush_table(md_ctx *c) {
  tui_table *t = &c->tb;
  tui_rich f = {0}, k = {0};
  build_prefix(c, &f, &k);
  int n0 = c->d->n;
  before_block(c);
  tui__table_layout(c->d, t, c->o.width, &f, &k, c->o.ascii, c->tb_src);
  emitted(c, n0);
  c->need_blank = 1;
  tui__rich_free(&f);
  tui__rich_free(&k);
  for (int x = 0; t->cells && x < t->nrows * t->ncols; x++)
    if (t->cells[x].oom) c->d->oom = 1;
  table_free(c);
}

static int table_add_row(md_ctx *c) {
  tui_table *t = &c->tb;
  if (t->ncols <= 0) return -1;
  tui_rich *cells = realloc(t->cells, (size_t)(t->nrows + 1) *
                                          (size_t)t->ncols * sizeof *cells);
  if (!cells) { c->d->oom = 1; return -1; }
  t->cells = cells;
  memset(&cells[t->nrows * t->ncols], 0, (size_t)t->ncols * sizeof *cells);
  t->nrows++;
  return 0;
}

/* ---- containers ---- */

static md_box *push_box(md_ctx *c, int is_li) {
  if (c->nbox == MD_MAXBOX) { c->box_over++; return NULL; }
  md_box *b = &c->box[c->nbox++];
  memset(b, 0, sizeof *b);
  b->is_li = is_li;
  return b;
}

static void pop_box(md_ctx *c) {
  if (c->box_over) { c->box_over--; return; }
  if (c->nbox == 0) return;
  md_box *b = &c->box[--c->nbox];
  if (b->first.oom || b->cont.oom) c->d->oom = 1;
  tui__rich_free(&b->first);
  tui__rich_free(&b->cont);
}

static int inside_li(const md_ctx *c) {
  for (int k = 0; k < c->nbox; k++)
    if (c->box[k].is_li) return 1;
  return 0;
}

static void enter_li(md_ctx *c, const MD_BLOCK_LI_DETAIL *det) {
  int indent = inside_li(c) ? 0 : 2;
  md_list *l = c->nlist > 0 && !c->list_over ? &c->list[c->nlist - 1] : NULL;
  md_box *b = push_box(c, 1);
  if (!b) return;
  for (int s = 0; s < indent; s++) tui__rich_putc(&b->first, L' ', 0);
  if (l && l->ordered) {
    tui__rich_printf(&b->first, TUI_C_ACCENT, "%u%c ", l->next++,
                     l->delim ? l->delim : '.');
  } else {
    int depth = c->nlist > 0 ? (c->nlist - 1) % 3 : 0;
    tui__rich_puts(&b->first, tui__glyph(c->o.ascii, TUI_G_BULLET1 + depth),
                   (size_t)-1, TUI_C_ACCENT);
    tui__rich_putc(&b->first, L' ', 0);
  }
  if (det && det->is_task) {
    int on = det->task_mark == 'x' || det->task_mark == 'X';
    tui__rich_puts(&b->first,
                   tui__glyph(c->o.ascii, on ? TUI_G_TASK_ON : TUI_G_TASK_OFF),
                   (size_t)-1, on ? TUI_C_OK : TUI_C_ACCENT);
    tui__rich_putc(&b->first, L' ', 0);
  }
  int w = tui__rich_width(&b->first, 0, b->first.n);
  for (int s = 0; s < w; s++) tui__rich_putc(&b->cont, L' ', 0);
}

/* ---- md4c callbacks ---- */

static int on_enter_block(MD_BLOCKTYPE type, void *detail, void *u) {
  md_ctx *c = u;
  switch (type) {
  case MD_BLOCK_DOC:
    break;
  case MD_BLOCK_QUOTE: {
    flush_para(c);
    before_block(c);
    md_box *b = push_box(c, 0);
    if (b) {
      const char *g = tui__glyph(c->o.ascii, TUI_G_QUOTE);
      tui__rich_puts(&b->first, g, (size_t)-1, TUI_C_QUOTE);
      tui__rich_putc(&b->first, L' ', 0);
      tui__rich_append(&b->cont, &b->first);
    }
    c->quote++;
    break;
  }
  case MD_BLOCK_UL:
  case MD_BLOCK_OL:
    flush_para(c);
    before_block(c);
    if (c->nlist == MD_MAXBOX) {
      c->list_over++;
    } else {
      md_list *l = &c->list[c->nlist++];
      memset(l, 0, sizeof *l);
      if (type == MD_BLOCK_OL) {
        const MD_BLOCK_OL_DETAIL *d = detail;
        l->ordered = 1;
        l->next = d->start;
        l->delim = d->mark_delimiter;
      }
    }
    break;
  case MD_BLOCK_LI:
    flush_para(c);
    before_block(c);
    enter_li(c, detail);
    break;
  case MD_BLOCK_HR: {
    flush_para(c);
    before_block(c);
    tui_rich f = {0};
    build_prefix(c, &f, NULL);
    int n0 = c->d->n;
    tui_line *l = tui__doc_add(c->d, 0);
    if (l) {
      tui__rich_append(&l->t, &f);
      int w = c->o.width - prefix_width(c);
      const char *g = tui__glyph(c->o.ascii, TUI_G_H);
      for (int x = 0; x < w; x++)
        tui__rich_puts(&l->t, g, (size_t)-1, TUI_C_MUTED);
    }
    emitted(c, n0);
    c->need_blank = 1;
    tui__rich_free(&f);
    break;
  }
  case MD_BLOCK_H:
    flush_para(c);
    before_block(c);
    c->heading = (int)((const MD_BLOCK_H_DETAIL *)detail)->level;
    break;
  case MD_BLOCK_CODE: {
    flush_para(c);
    c->in_code = 1;
    c->code_src = 0;
    c->code_lang[0] = 0;
    const MD_BLOCK_CODE_DETAIL *d = detail;
    if (d && d->lang.text) {
      size_t n = 0;
      for (; n < d->lang.size && n + 1 < sizeof c->code_lang; n++) {
        char ch = d->lang.text[n];
        if (ch == ' ' || ch == '{' || ch == ',') break;
        c->code_lang[n] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      }
      c->code_lang[n] = 0;
    }
    tui__rich_clear(&c->code);
    break;
  }
  case MD_BLOCK_HTML:
    flush_para(c);
    c->in_html = 1;
    c->code_src = 0;
    tui__rich_clear(&c->code);
    break;
  case MD_BLOCK_P:
    flush_para(c);
    before_block(c);
    break;
  case MD_BLOCK_TABLE: {
    flush_para(c);
    const MD_BLOCK_TABLE_DETAIL *d = detail;
    memset(&c->tb, 0, sizeof c->tb);
    c->tb.ncols = (int)d->col_count;
    c->tb.align = calloc(d->col_count ? d->col_count : 1, sizeof(int));
    if (!c->tb.align) c->d->oom = 1;
    c->tb_src = 0;
    c->in_table = 1;
    break;
  }
  case MD_BLOCK_THEAD:
    c->in_head = 1;
    break;
  case MD_BLOCK_TBODY:
    break;
  case MD_BLOCK_TR:
    if (c->in_table && table_add_row(c) == 0 && c->in_head) c->tb.nhead++;
    c->tb_col = 0;
    break;
  case MD_BLOCK_TH:
  case MD_BLOCK_TD: {
    tui_table *t = &c->tb;
    int col = c->tb_col;
    if (t->nrows > 0 && t->cells && col < t->ncols) {
      c->cell = &t->cells[(t->nrows - 1) * t->ncols + col];
      const MD_BLOCK_TD_DETAIL *d = detail;
      if (t->align && t->nrows == 1)
        t->align[col] = d->align == MD_ALIGN_CENTER ? 1
                        : d->align == MD_ALIGN_RIGHT ? 2 : 0;
    } else {
      tui__rich_clear(&c->scratch);
      c->cell = &c->scratch;
    }
    c->in_cell = 1;
    break;
  }
  }
  return c->d->oom ? 1 : 0;
}

static int on_leave_block(MD_BLOCKTYPE type, void *detail, void *u) {
  md_ctx *c = u;
  (void)detail;
  switch (type) {
  case MD_BLOCK_DOC:
    flush_para(c);
    break;
  case MD_BLOCK_QUOTE:
    flush_para(c);
    pop_box(c);
    if (c->quote) c->quote--;
    c->need_blank = 1;
    break;
  case MD_BLOCK_UL:
  case MD_BLOCK_OL:
    flush_para(c);
    if (c->list_over) c->list_over--;
    else if (c->nlist) c->nlist--;
    if (!inside_li(c)) c->need_blank = 1;
    break;
  case MD_BLOCK_LI:
    flush_para(c);
    pop_box(c);
    break;
  case MD_BLOCK_HR:
    break;
  case MD_BLOCK_H:
    flush_para(c);
    c->heading = 0;
    c->need_blank = 1;
    break;
  case MD_BLOCK_CODE:
    c->in_code = 0;
    flush_code(c, 0);
    break;
  case MD_BLOCK_HTML:
    c->in_html = 0;
    flush_code(c, 1);
    break;
  case MD_BLOCK_P:
    flush_para(c);
    c->need_blank = 1;
    break;
  case MD_BLOCK_TABLE:
    c->in_table = 0;
    flush_table(c);
    break;
  case MD_BLOCK_THEAD:
    c->in_head = 0;
    break;
  case MD_BLOCK_TBODY:
  case MD_BLOCK_TR:
    break;
  case MD_BLOCK_TH:
  case MD_BLOCK_TD:
    c->in_cell = 0;
    c->cell = NULL;
    c->tb_col++;
    break;
  }
  return c->d->oom ? 1 : 0;
}

static char *rich_utf8(const tui_rich *r, int from, int to) {
  tui_line l = {.t = *r};
  l.t.ch = r->ch + from;
  l.t.n = to - from;
  return tui__line_utf8(&l);
}

/* Autolinks and links written as their own URL show the URL once. */
static int link_is_text(const char *text, const char *href) {
  static const char *const pre[] = {"", "mailto:", "http://", "https://"};
  size_t tl = strlen(text);
  for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
    size_t pl = strlen(pre[k]);
    if (!strncmp(href, pre[k], pl) && !strcmp(href + pl, text) && tl) return 1;
  }
  return 0;
}

static int on_enter_span(MD_SPANTYPE type, void *detail, void *u) {
  md_ctx *c = u;
  tui_rich *r = cur_rich(c);
  switch (type) {
  case MD_SPAN_EM: c->em++; break;
  case MD_SPAN_STRONG: c->strong++; break;
  case MD_SPAN_DEL: c->del++; break;
  case MD_SPAN_CODE:
    if (c->o.plain) tui__rich_putc(r, L'`', TUI_C_CODE);
    c->icode++;
    break;
  case MD_SPAN_A: {
    if (c->nlink == MD_MAXLINK) { c->link_over++; break; }
    const MD_SPAN_A_DETAIL *d = detail;
    char *h = malloc(d->href.size + 1);
    if (!h) { c->d->oom = 1; break; }
    if (d->href.size) memcpy(h, d->href.text, d->href.size);
    h[d->href.size] = 0;
    c->link[c->nlink].href = h;
    c->link[c->nlink].start = r->n;
    c->nlink++;
    break;
  }
  case MD_SPAN_IMG:
    tui__rich_puts(r, "[image: ", (size_t)-1, TUI_C_MUTED);
    c->img++;
    break;
  default:
    break;
  }
  return c->d->oom ? 1 : 0;
}

static int on_leave_span(MD_SPANTYPE type, void *detail, void *u) {
  md_ctx *c = u;
  tui_rich *r = cur_rich(c);
  (void)detail;
  switch (type) {
  case MD_SPAN_EM: c->em--; break;
  case MD_SPAN_STRONG: c->strong--; break;
  case MD_SPAN_DEL: c->del--; break;
  case MD_SPAN_CODE:
    c->icode--;
    if (c->o.plain) tui__rich_putc(r, L'`', TUI_C_CODE);
    break;
  case MD_SPAN_A: {
    if (c->link_over) { c->link_over--; break; }
    if (c->nlink == 0) break;
    c->nlink--;
    char *h = c->link[c->nlink].href;
    int start = c->link[c->nlink].start;
    if (start > r->n) start = r->n;
    char *text = rich_utf8(r, start, r->n);
    if (text && *h && !link_is_text(text, h)) {
      tui__rich_puts(r, " (", (size_t)-1, cur_style(c));
      tui__rich_puts(r, h, (size_t)-1, TUI_C_MUTED);
      tui__rich_puts(r, ")", (size_t)-1, cur_style(c));
    }
    free(text);
    free(h);
    break;
  }
  case MD_SPAN_IMG:
    c->img--;
    tui__rich_puts(r, "]", (size_t)-1, TUI_C_MUTED);
    break;
  default:
    break;
  }
  return c->d->oom ? 1 : 0;
}

static const struct { const char *name; wchar_t ch; } entities[] = {
  {"amp", L'&'}, {"lt", L'<'}, {"gt", L'>'}, {"quot", L'"'},
  {"apos", L'\''}, {"nbsp", 0xa0}, {"copy", 0xa9}, {"reg", 0xae},
  {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026},
  {"times", 0xd7}, {"divide", 0xf7}, {"le", 0x2264}, {"ge", 0x2265},
  {"ne", 0x2260}, {"asymp", 0x2248}, {"rarr", 0x2192}, {"larr", 0x2190},
  {"harr", 0x2194}, {"micro", 0xb5}, {"deg", 0xb0}, {"plusmn", 0xb1},
  {"middot", 0xb7}, {"laquo", 0xab}, {"raquo", 0xbb}, {"lsquo", 0x2018},
  {"rsquo", 0x2019}, {"ldquo", 0x201c}, {"rdquo", 0x201d},
  {"bull", 0x2022}, {"infin", 0x221e}, {"sum", 0x2211}, {"alpha", 0x3b1},
  {"beta", 0x3b2}, {"mu", 0x3bc}, {"pi", 0x3c0}, {"sigma", 0x3c3},
  {"sup2", 0xb2}, {"frac12", 0xbd}, {"para", 0xb6}, {"sect", 0xa7},
};

static void put_entity(tui_rich *r, const char *t, size_t n, uint16_t st) {
  if (n >= 4 && t[0] == '&' && t[n - 1] == ';') {
    if (t[1] == '#') {
      int hex = t[2] == 'x' || t[2] == 'X';
      unsigned long v = 0;
      size_t k = hex ? 3 : 2;
      int ok = k < n - 1;
      for (; k < n - 1 && ok; k++) {
        char ch = t[k];
        int dgt = ch >= '0' && ch <= '9' ? ch - '0'
                  : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                  : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (dgt < 0 || v > 0x10ffff) ok = 0;
        else v = v * (hex ? 16 : 10) + (unsigned long)dgt;
      }
      if (ok) {
        if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) v = 0xfffd;
        tui__rich_putc(r, (wchar_t)v, st);
        return;
      }
    } else {
      for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
        size_t el = strlen(entities[k].name);
        if (el == n - 2 && !memcmp(t + 1, entities[k].name, el)) {
          tui__rich_putc(r, entities[k].ch, st);
          return;
        }
      }
    }
  }
  tui__rich_puts(r, t, n, st);
}

static int on_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size,
                   void *u) {
  md_ctx *c = u;
  tui_rich *r = cur_rich(c);
  if (r->n == 0) {
    int line = src_line(c, text);
    if (r == &c->para) c->para_src = line;
    else if (r == &c->code) c->code_src = line;
  }
  if (c->in_table && !c->tb_src) c->tb_src = src_line(c, text);
  uint16_t st = cur_style(c);
  switch (type) {
  case MD_TEXT_NULLCHAR:
    tui__rich_putc(r, 0xfffd, st);
    break;
  case MD_TEXT_BR:
    tui__rich_putc(r, L'\n', st);
    break;
  case MD_TEXT_SOFTBR:
    tui__rich_putc(r, L' ', st);
    break;
  case MD_TEXT_ENTITY:
    put_entity(r, text, size, st);
    break;
  case MD_TEXT_HTML:
    if (c->in_html) {
      tui__rich_puts(r, text, size, TUI_C_MUTED);
    } else if (!(size >= 4 && !memcmp(text, "<!--", 4))) {
      tui__rich_puts(r, text, size, TUI_C_MUTED);
    }
    break;
  case MD_TEXT_CODE:
    if (c->in_code) {
      tui__rich_puts(r, text, size, TUI_C_CODE);
      break;
    }
    /* inline code wraps like text */
    __attribute__((fallthrough));
  default: {
    size_t i = 0;
    while (i < size) {
      wchar_t ch = tui__utf8_next(text, size, &i);
      if (ch == L'\t' || ch == L'\n' || ch == L'\r') ch = L' ';
      tui__rich_putc(r, ch, st);
    }
    break;
  }
  }
  return c->d->oom || r->oom ? 1 : 0;
}

int tui__md_layout(const char *md, size_t len, const tui_mdopts *o,
                   tui_doc *d) {
  md_ctx c;
  memset(&c, 0, sizeof c);
  c.md = md ? md : "";
  c.len = md ? len : 0;
  c.o = *o;
  if (c.o.width < 20) c.o.width = 20;
  c.d = d;
  c.scan_line = 1;
  MD_PARSER p;
  memset(&p, 0, sizeof p);
  p.flags = MD_DIALECT_GITHUB;
  p.enter_block = on_enter_block;
  p.leave_block = on_leave_block;
  p.enter_span = on_enter_span;
  p.leave_span = on_leave_span;
  p.text = on_text;
  int prc = md_parse(c.md, (MD_SIZE)c.len, &p, &c);
  int rc = d->oom ? PL_ENOMEM : prc ? PL_EINVAL : 0;
  /* An aborted parse leaves containers open: release them. */
  while (c.nbox > 0 || c.box_over) pop_box(&c);
  for (int k = 0; k < c.nlink; k++) free(c.link[k].href);
  table_free(&c);
  tui__rich_free(&c.para);
  tui__rich_free(&c.code);
  tui__rich_free(&c.scratch);
  if (rc == 0 && d->oom) rc = PL_ENOMEM;
  return rc;
}

/* ---- wrapping ---- */

typedef struct wrap_st {
  tui_doc *d;
  tui_line *l;
  int col, avail, width, src;
} wrap_st;

static int wrap_line(wrap_st *w, const tui_rich *pf) {
  if (w->l) tui__rich_rtrim(&w->l->t);
  w->l = tui__doc_add(w->d, w->src);
  if (!w->l) return -1;
  tui__rich_append(&w->l->t, pf);
  w->avail = w->width - tui__rich_width(pf, 0, pf->n);
  if (w->avail < 1) w->avail = 1;
  w->col = 0;
  return 0;
}

void tui__wrap(tui_doc *d, const tui_rich *in, int width,
               const tui_rich *first, const tui_rich *cont, int src) {
  if (!first) first = &no_prefix;
  if (!cont) cont = &no_prefix;
  wrap_st w = {.d = d, .width = width, .src = src};
  if (wrap_line(&w, first)) return;
  int i = 0, n = in->n, pend = -1;
  while (i < n) {
    wchar_t ch = in->ch[i];
    if (ch == L'\n') {
      if (wrap_line(&w, cont)) return;
      pend = -1;
      i++;
      continue;
    }
    if (ch == L' ') {
      if (w.col > 0 && pend < 0) pend = i;
      i++;
      continue;
    }
    int j = i, ww = 0;
    while (j < n && in->ch[j] != L' ' && in->ch[j] != L'\n')
      ww += tui__wcwidth(in->ch[j++]);
    if (w.col > 0 && w.col + ww + (pend >= 0) > w.avail) {
      if (wrap_line(&w, cont)) return;
    } else if (pend >= 0) {
      tui__rich_putc(&w.l->t, L' ', in->st[pend]);
      w.col++;
    }
    pend = -1;
    for (int k = i; k < j; k++) {
      int cw = tui__wcwidth(in->ch[k]);
      if (w.col > 0 && w.col + cw > w.avail && wrap_line(&w, cont)) return;
      tui__rich_putc(&w.l->t, in->ch[k] == 0xa0 ? L' ' : in->ch[k], in->st[k]);
      w.col += cw;
    }
    i = j;
  }
  tui__rich_rtrim(&w.l->t);
}

/* ---- tables ---- */

static int cell_natural(const tui_rich *r) {
  int best = 0, cur = 0;
  for (int k = 0; k < r->n; k++) {
    if (r->ch[k] == L'\n') {
      if (cur > best) best = cur;
      cur = 0;
    } else {
      cur += tui__wcwidth(r->ch[k]);
    }
  }
  return cur > best ? cur : best;
}

static void rule_line(tui_doc *d, const tui_rich *pf, const int *w, int nc,
                      int ascii, int l, int m, int r, int h, int src) {
  tui_line *ln = tui__doc_add(d, src);
  if (!ln) return;
  tui__rich_append(&ln->t, pf);
  tui__rich_puts(&ln->t, tui__glyph(ascii, l), (size_t)-1, TUI_C_MUTED);
  for (int c = 0; c < nc; c++) {
    for (int x = 0; x < w[c] + 2; x++)
      tui__rich_puts(&ln->t, tui__glyph(ascii, h), (size_t)-1, TUI_C_MUTED);
    tui__rich_puts(&ln->t, tui__glyph(ascii, c + 1 < nc ? m : r), (size_t)-1,
                   TUI_C_MUTED);
  }
}

void tui__table_layout(tui_doc *d, const tui_table *t, int width,
                       const tui_rich *first, const tui_rich *cont, int ascii,
                       int src) {
  int nc = t->ncols, nr = t->nrows;
  if (nc <= 0 || nr <= 0 || !t->cells) return;
  if (!first) first = &no_prefix;
  if (!cont) cont = &no_prefix;
  int *w = calloc((size_t)nc, sizeof *w);
  tui_doc *cl = calloc((size_t)nr * (size_t)nc, sizeof *cl);
  int *rh = calloc((size_t)nr, sizeof *rh);
  if (!w || !cl || !rh) { d->oom = 1; goto done; }

  int sum = 0;
  for (int c = 0; c < nc; c++) {
    w[c] = 1;
    for (int r = 0; r < nr; r++) {
      int nw = cell_natural(&t->cells[r * nc + c]);
      if (nw > w[c]) w[c] = nw;
    }
    sum += w[c];
  }
  int avail = width - tui__rich_width(cont, 0, cont->n) - (3 * nc + 1);
  while (sum > avail) {
    int big = 0;
    for (int c = 1; c < nc; c++)
      if (w[c] > w[big]) big = c;
    if (w[big] <= 6) break; /* too narrow to be useful: let it overflow */
    w[big]--;
    sum--;
  }

  int multi = 0;
  for (int r = 0; r < nr; r++) {
    for (int c = 0; c < nc; c++) {
      tui_doc *cd = &cl[r * nc + c];
      tui__wrap(cd, &t->cells[r * nc + c], w[c], NULL, NULL, 0);
      if (cd->oom) d->oom = 1;
      if (cd->n > rh[r]) rh[r] = cd->n;
    }
    if (r >= t->nhead && rh[r] > 1) multi = 1;
  }

  const tui_rich *pf = first;
  rule_line(d, pf, w, nc, ascii, TUI_G_TL, TUI_G_TM, TUI_G_TR, TUI_G_H, src);
  pf = cont;
  for (int r = 0; r < nr; r++) {
    for (int k = 0; k < rh[r]; k++) {
      tui_line *ln = tui__doc_add(d, src);
      if (!ln) goto done;
      tui__rich_append(&ln->t, pf);
      tui__rich_puts(&ln->t, tui__glyph(ascii, TUI_G_V), (size_t)-1,
                     TUI_C_MUTED);
      for (int c = 0; c < nc; c++) {
        const tui_doc *cd = &cl[r * nc + c];
        const tui_rich *txt = k < cd->n ? &cd->lines[k].t : &no_prefix;
        int tw = tui__rich_width(txt, 0, txt->n);
        int pad = w[c] > tw ? w[c] - tw : 0;
        int al = t->align ? t->align[c] : 0;
        int left = al == 2 ? pad : al == 1 ? pad / 2 : 0;
        tui__rich_putc(&ln->t, L' ', 0);
        for (int x = 0; x < left; x++) tui__rich_putc(&ln->t, L' ', 0);
        tui__rich_append(&ln->t, txt);
        for (int x = 0; x < pad - left; x++) tui__rich_putc(&ln->t, L' ', 0);
        tui__rich_putc(&ln->t, L' ', 0);
        tui__rich_puts(&ln->t, tui__glyph(ascii, TUI_G_V), (size_t)-1,
                       TUI_C_MUTED);
      }
    }
    if (r + 1 < nr && r + 1 == t->nhead)
      rule_line(d, pf, w, nc, ascii, TUI_G_HML, TUI_G_HMM, TUI_G_HMR,
                TUI_G_HH, src);
    else if (r + 1 < nr && multi && r >= t->nhead)
      rule_line(d, pf, w, nc, ascii, TUI_G_ML, TUI_G_MM, TUI_G_MR, TUI_G_H,
                src);
  }
  rule_line(d, pf, w, nc, ascii, TUI_G_BL, TUI_G_BM, TUI_G_BR, TUI_G_H, src);
done:
  if (cl)
    for (int x = 0; x < nr * nc; x++) tui__doc_free(&cl[x]);
  free(cl);
  free(rh);
  free(w);
}

/* ---- stdout ---- */

static void sgr(FILE *f, uint16_t st) {
  static const char *const role[TUI_C_COUNT] = {
    [TUI_C_HEADING] = "36", [TUI_C_CODE] = "33", [TUI_C_LINK] = "34",
    [TUI_C_QUOTE] = "32", [TUI_C_OK] = "32", [TUI_C_FAIL] = "31",
    [TUI_C_WARN] = "33", [TUI_C_ACCENT] = "35", [TUI_C_KEYWORD] = "1;34",
    [TUI_C_STRING] = "32", [TUI_C_COMMENT] = "2", [TUI_C_NUMBER] = "36",
    [TUI_C_MUTED] = "2",
    [TUI_C_BAR] = "7", [TUI_C_SEL] = "7",
  };
  fputs("\033[0", f);
  unsigned r = st & TUI_C_MASK;
  if (r < TUI_C_COUNT && role[r]) fprintf(f, ";%s", role[r]);
  if (st & TUI_A_BOLD) fputs(";1", f);
  if (st & TUI_A_DIM) fputs(";2", f);
  if (st & TUI_A_ITALIC) fputs(";3", f);
  if (st & TUI_A_UNDER) fputs(";4", f);
  if (st & TUI_A_REVERSE) fputs(";7", f);
  if (st & TUI_A_STRIKE) fputs(";9", f);
  fputc('m', f);
}

int tui_md_print(FILE *f, const char *md, size_t len, int width, int ansi) {
  if (!f || (!md && len)) return PL_EINVAL;
  tui_mdopts o = {.width = width > 0 ? width : 80,
                  .ascii = !tui__utf8_locale(1),
                  .plain = !ansi};
  tui_doc d = {0};
  int rc = tui__md_layout(md, len, &o, &d);
  for (int k = 0; rc == 0 && k < d.n; k++) {
    const tui_rich *t = &d.lines[k].t;
    uint16_t cur = 0;
    for (int x = 0; x < t->n; x++) {
      /* spaces only need the style when it shows (underline, reverse) */
      uint16_t st = t->st[x];
      if (t->ch[x] == L' ' && !(st & (TUI_A_UNDER | TUI_A_REVERSE)))
        st = cur;
      if (ansi && st != cur) {
        if (st) sgr(f, st);
        else fputs("\033[0m", f);
        cur = st;
      }
      char b[4];
      fwrite(b, 1, (size_t)tui__utf8_put(t->ch[x], b), f);
    }
    if (ansi && cur) fputs("\033[0m", f);
    fputc('\n', f);
  }
  tui__doc_free(&d);
  if (rc == 0 && ferror(f)) rc = PL_EIO;
  return rc;
}
